import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from helpcenter import services
from helpcenter.models import ArticleRevision

pytestmark = pytest.mark.django_db


def _png(width=40, height=30, **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (12, 95, 89)).save(buffer, format="PNG", **save_kwargs)
    return buffer.getvalue()


def test_every_change_keeps_a_revision_and_identical_saves_do_not(publish, agent):
    translation = publish("reset-2fa", "en", "Reset 2FA", "v1", editor=agent)
    publish("reset-2fa", "en", "Reset 2FA", "v1", editor=agent)
    publish("reset-2fa", "en", "Reset your 2FA", "v2", editor=agent)
    revisions = list(ArticleRevision.objects.filter(translation=translation).order_by("pk"))
    assert len(revisions) == 2
    assert revisions[1].changed_fields == ["title", "body"]
    assert revisions[1].editor == agent


def test_restoring_a_revision_brings_back_its_text_as_a_new_revision(publish):
    translation = publish("reset-2fa", "en", "Reset 2FA", "first body")
    first = translation.revisions.get()
    publish("reset-2fa", "en", "Reset 2FA", "second body")
    restored = services.revision_restore(revision=first)
    assert restored.body.strip() == "first body"
    assert restored.revisions.count() == 3


def test_publishing_sets_the_published_time_once(publish):
    translation = publish("reset-2fa", "en", "Reset 2FA", status="draft")
    assert translation.published_at is None
    translation = services.translation_set_status(translation=translation, status="published")
    first_published = translation.published_at
    translation = services.translation_set_status(translation=translation, status="draft")
    translation = services.translation_set_status(translation=translation, status="published")
    assert translation.published_at == first_published


def test_a_reader_votes_only_once(publish, customer):
    translation = publish("reset-2fa", "en", "Reset 2FA")
    services.vote_record(translation=translation, helpful=True, user=customer)
    with pytest.raises(services.AlreadyVoted):
        services.vote_record(translation=translation, helpful=False, user=customer)
    services.vote_record(translation=translation, helpful=False, visitor="visitor-1")
    with pytest.raises(services.AlreadyVoted):
        services.vote_record(translation=translation, helpful=True, visitor="visitor-1")
    translation.refresh_from_db()
    assert (translation.helpful_yes, translation.helpful_no) == (1, 1)


def test_images_are_re_encoded_without_metadata(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 20)).save(jpeg, format="JPEG", exif=exif.tobytes())
    image = services.image_upload(data=jpeg.getvalue())
    with Image.open(image.file.path) as stored:
        assert stored.getexif() == {}
    assert (image.width, image.height) == (20, 20)
    assert image.name.endswith(".jpg") and len(image.name) > 20


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a but not really an image", "not a valid image"),
        (b"#!/bin/sh\nrm -rf /\n", "not a valid image"),
        (_png()[:60], "not a valid image"),
    ],
)
def test_fake_and_truncated_images_are_refused(settings, tmp_path, data, message):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError, match=message):
        services.image_upload(data=data)


def test_oversized_and_decompression_bomb_images_are_refused(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.HELPCENTER_IMAGE_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="larger than"):
        services.image_upload(data=_png(200, 200) + b"\0" * 2000)
    settings.HELPCENTER_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    settings.HELPCENTER_IMAGE_MAX_PIXELS = 100
    with pytest.raises(ValidationError, match="too many pixels"):
        services.image_upload(data=_png(20, 20))


def test_synonym_groups_need_two_terms():
    with pytest.raises(ValidationError):
        services.synonym_save(terms="提币")
    group = services.synonym_save(terms="提币，提现\n充提", language="zh-hans")
    assert group.term_list == ["提币", "提现", "充提"]


def test_sections_cannot_have_sections():
    from helpcenter.models import Category

    top = services.category_save(category=Category(slug="top", name_en="Top"))
    section = services.category_save(category=Category(slug="sec", name_en="Sec", parent=top))
    with pytest.raises(ValidationError):
        services.category_save(category=Category(slug="deep", name_en="Deep", parent=section))
