import factory
from django.utils import timezone

from accounts import services
from accounts.models import User
from accounts.roles import Role

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A verified customer unless told otherwise (`role=Role.AGENT`, `verified=False`)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")
    preferred_language = "en"
    time_zone = "UTC"
    email_verified_at = factory.LazyFunction(timezone.now)

    class Params:
        verified = factory.Trait(email_verified_at=factory.LazyFunction(timezone.now))
        unverified = factory.Trait(email_verified_at=None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        password = kwargs.pop("password", DEFAULT_PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            services.user_set_role(user=obj, role=extracted or Role.CUSTOMER)
