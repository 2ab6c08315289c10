import pytest

from helpcenter.markdown import render


def test_headings_get_anchors_and_a_table_of_contents():
    result = render("# Title in body\n\n## 为什么提币还没到账\n\ntext\n\n### Details\n")
    assert '<h2 id="h-title-in-body">' in result.html
    assert [entry["name"] for entry in result.toc] == [
        "Title in body",
        "为什么提币还没到账",
        "Details",
    ]
    assert result.toc[1]["id"] in result.html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src="/help-images/x.png" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="steal()">x</a>',
        '<iframe src="https://evil.example/"></iframe>',
        '<div style="position:fixed">overlay</div>',
        "<svg><script>alert(1)</script></svg>",
        '<form action="https://evil.example"><input name="password"></form>',
    ],
)
def test_no_script_handler_or_foreign_frame_survives(attack):
    html = render(f"Hello\n\n{attack}\n").html
    lowered = html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "evil.example",
        "style=",
        "<form",
        "<input",
    ):
        assert bad not in lowered, html


def test_videos_only_from_allowed_hosts():
    allowed = render("@[video](https://www.youtube.com/watch?v=dQw4w9WgXcQ)\n").html
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in allowed
    refused = render("@[video](https://videos.evil.example/watch?v=1)\n").html
    assert "<iframe" not in refused
    assert "videos.evil.example" in refused  # shown as a plain link, not embedded


def test_images_only_from_the_help_center_store():
    assert 'src="/help-images/abc.png"' in render("![alt](/help-images/abc.png)").html
    assert "tracker.example" not in render("![x](https://tracker.example/p.gif)").html


def test_links_open_safely_and_tables_render():
    html = render("[docs](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n").html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<table>" in html and "<td>1</td>" in html
