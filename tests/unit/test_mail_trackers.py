"""Trackers out of HTML parts (postmask.mail.trackers): what goes, and that nothing else changes."""

from __future__ import annotations

import base64
import quopri
from email import message_from_bytes
from urllib.parse import urlsplit

import pytest

from postmask.mail import lines
from postmask.mail.trackers import Hosts, Mode, TrackerRemoval, strip
from postmask.mail.tracking_hosts import OWN_HOSTS, Source, parse_list
from tests.support.mail import corpus, leaf_payloads

HOSTS = Hosts(frozenset(OWN_HOSTS))
TARGET = "https://shop.example/item?id=7&amp;colour=red"  # as written in HTML: &amp; is one '&'


def test_a_declared_1x1_remote_image_goes_and_the_rest_stays() -> None:
    html = '<p>Hi</p><img src="https://img.example/a.gif" width="1" height="1" alt=""><p>Bye</p>'
    changed, removed = strip(html, HOSTS, links=False)
    assert changed == "<p>Hi</p><p>Bye</p>"
    assert removed.as_dict() == {"pixels": 1, "links": 0}


@pytest.mark.parametrize(
    "tag",
    [
        '<img src="https://img.example/a.gif" style="display: none">',
        "<img src='https://img.example/a.gif' style='visibility:hidden !important'>",
        '<img src="https://img.example/a.gif" width=0>',
        '<IMG SRC="https://img.example/a.gif" hidden/>',
        '<img src="//img.example/a.gif" style="width:2px;height:2px">',
        '<img src="https://us1.list-manage.com/track/open.php?u=1&id=2" width="600">',
        '<img src="https://u123.ct.sendgrid.net/wf/open?upn=xyz">',
        '<img src="https://mail.shop.example/track/open?id=9">',
        '<img\nsrc="https://eu-west-1.awstrack.me/I0/0102/abc/1"\nalt="">',
    ],
)
def test_open_pixels_of_every_shape_go(tag: str) -> None:
    changed, removed = strip(f"<div>a{tag}b</div>", HOSTS, links=False)
    assert changed == "<div>ab</div>"
    assert removed.pixels == 1


@pytest.mark.parametrize(
    "tag",
    [
        '<img src="https://img.example/logo.png" width="120" height="40">',
        '<img src="cid:logo@example" width="1" height="1">',  # inline: nobody learns anything
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="1" height="1">',
        '<img src="https://img.example/a.gif" width="1">',  # one dimension only: not a declared pixel
        '<img src="https://img.example/a.gif" width="100%" height="1">',
    ],
)
def test_images_that_are_not_trackers_stay(tag: str) -> None:
    html = f"<div>{tag}</div>"
    changed, removed = strip(html, HOSTS, links=True)
    assert changed is html
    assert removed.as_dict() == {"pixels": 0, "links": 0}


def test_a_background_on_a_tracking_host_goes_and_nothing_else_of_the_tag() -> None:
    html = '<td class="x" background="https://us1.list-manage.com/track/open.php?u=1" width="5">cell</td>'
    changed, removed = strip(html, HOSTS, links=False)
    assert changed == '<td class="x" width="5">cell</td>'
    assert removed.pixels == 1


def test_links_are_left_alone_in_pixels_mode() -> None:
    html = '<a href="https://click.pstmrk.it/2/?url=https%3A%2F%2Fshop.example%2F">x</a>'
    assert strip(html, HOSTS, links=False)[0] is html


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("https://click.pstmrk.it/2/?url=https%3A%2F%2Fshop.example%2Fitem", "https://shop.example/item"),
        ("https://r20.rs6.net/tn.jsp?f=001&amp;u=https://shop.example/a&amp;c=2", "https://shop.example/a"),
        (
            "https://ctrk.klclick.com/x?redirect=" + base64.urlsafe_b64encode(b"https://shop.example/b").decode(),
            "https://shop.example/b",
        ),
        (
            "https://trk.klclick.com/L/"
            + base64.urlsafe_b64encode(b"https://shop.example/c").decode().rstrip("=")
            + "/abc",
            "https://shop.example/c",
        ),
        (  # Amazon SES's click link: the target URL-encoded in a path segment
            "https://1a2b3c.r.eu-west-1.awstrack.me/L0/https:%2F%2Fshop.example%2Fs%3Fid=5/1/0102019a-77/Xy4=401",
            "https://shop.example/s?id=5",
        ),
        ("https://shop.example/d?utm_source=news&amp;id=4&amp;fbclid=Zx", "https://shop.example/d?id=4"),
        (
            "https://click.pstmrk.it/?u=" + "https%3A%2F%2Fshop.example%2Fe%3Futm_medium%3Dmail%26k%3D1",
            "https://shop.example/e?k=1",
        ),
    ],
)
def test_click_tracking_links_are_unwrapped_and_click_ids_dropped(href: str, target: str) -> None:
    html = f'<p><a class="btn" href="{href}" title="t">Shop</a></p>'
    changed, removed = strip(html, HOSTS, links=True)
    assert changed == f'<p><a class="btn" href="{target.replace("&", "&amp;")}" title="t">Shop</a></p>'
    assert removed.as_dict() == {"pixels": 0, "links": 1}


def test_a_link_on_an_untracked_host_with_a_url_parameter_stays() -> None:
    html = '<a href="https://search.example/?url=https://shop.example/">x</a>'
    assert strip(html, HOSTS, links=True)[0] is html


def test_tags_inside_comments_scripts_and_attribute_values_are_not_touched() -> None:
    html = (
        '<!-- <img src="https://a.example/p.gif" width=1 height=1> -->'
        "<script>var s = '<img src=\"https://a.example/p.gif\" width=1 height=1>';</script>"
        "<p title='<img src=\"https://a.example/p.gif\" width=1 height=1>'>x</p>"
    )
    assert strip(html, HOSTS, links=True)[0] is html


def test_an_operator_list_is_read_one_host_a_line() -> None:
    assert parse_list("# mine\ntrack.mine.example\n\n  Click.Other.example.  # theirs\nnot a host\nlocal\n") == {
        "track.mine.example",
        "click.other.example",
    }


def test_every_own_host_names_its_public_source() -> None:
    assert OWN_HOSTS
    for host, source in OWN_HOSTS.items():
        assert isinstance(source, Source), host
        parts = urlsplit(source.url)
        assert (parts.scheme, bool(parts.hostname), parts.hostname != host) == ("https", True, True), host
        assert isinstance(source.by_provider, bool), host
        assert parse_list(host) == {host}, host  # written as an operator's list would read it: lower case, a host


# --- over the mail corpus: nothing but the trackers changes ------------------------------------------------------

PIXEL = '<img src="https://us1.list-manage.com/track/open.php?u=1&amp;id=2" width="1" height="1" border="0">'
TRACKED = '<a href="https://click.pstmrk.it/2/?url=https%3A%2F%2Fshop.example%2F%3Fid%3D1%26utm_source%3Dx">go</a>'
CLEAN = '<a href="https://shop.example/?id=1">go</a>'


def _html_parts() -> list[tuple[str, str]]:
    found = []
    for name, raw in corpus().items():
        for index, (content_type, payload) in enumerate(leaf_payloads(message_from_bytes(raw))):
            if content_type == "text/html":
                found.append((f"{name}#{index}", payload.decode("latin-1")))
    return found


@pytest.mark.parametrize(("name", "html"), _html_parts(), ids=[name for name, _ in _html_parts()])
def test_a_corpus_html_part_is_byte_identical_but_for_the_trackers(name: str, html: str) -> None:
    untouched, removed = strip(html, HOSTS, links=True)
    assert untouched is html, "the corpus has no trackers: nothing may change"
    middle = len(html) // 2
    cut = html.find("<", middle)
    cut = middle if cut == -1 else cut
    # Trackers put where a sender would: at the start, between two tags of the original, and at the end.
    injected = PIXEL + html[:cut] + TRACKED + PIXEL + html[cut:] + TRACKED
    changed, removed = strip(injected, HOSTS, links=True)
    in_comment_or_script = html.rfind("<!--", 0, cut) > html.rfind("-->", 0, cut) or (
        html.lower().rfind("<script", 0, cut) > html.lower().rfind("</script", 0, cut)
    )
    if in_comment_or_script:
        assert changed == html[:cut] + TRACKED + PIXEL + html[cut:] + CLEAN
    else:
        assert changed == html[:cut] + CLEAN + html[cut:] + CLEAN
        assert removed.as_dict() == {"pixels": 2, "links": 2}


# --- through the body: encodings, other parts, size ---------------------------------------------------------------


def _message(html_part: bytes, encoding: str) -> bytes:
    return (
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Plain text with https://click.pstmrk.it/?url=https://x.example/\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: "
        + encoding.encode()
        + b"\r\n\r\n"
        + html_part
        + b"\r\n--b--\r\n"
    )


HTML = ("<html><body><p>Caf\u00e9 \u2013 d\u00e9j\u00e0 vu</p>" + PIXEL + TRACKED + "</body></html>").encode("utf-8")
HTML_CLEAN = ("<html><body><p>Caf\u00e9 \u2013 d\u00e9j\u00e0 vu</p>" + CLEAN + "</body></html>").encode("utf-8")


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (quopri.encodestring(HTML), "quoted-printable"),
        (base64.encodebytes(HTML).replace(b"\n", b"\r\n"), "base64"),
    ],
)
def test_an_encoded_html_part_is_decoded_rewritten_and_encoded_again(encoded: bytes, encoding: str) -> None:
    raw = _message(encoded, encoding)
    head, _, body = raw.partition(b"\r\n\r\n")
    removal = TrackerRemoval(Mode.PIXELS_AND_LINKS, HOSTS, "m1")
    sent = lines.sendable_body(
        b' multipart/alternative; boundary="b"', None, memoryview(body), b"\r\n", rewrite=removal
    )
    out = b"".join(bytes(chunk) for chunk in sent.chunks)
    parts = leaf_payloads(message_from_bytes(head + b"\r\n\r\n" + out))
    assert parts == [
        ("text/plain", b"Plain text with https://click.pstmrk.it/?url=https://x.example/"),
        ("text/html", HTML_CLEAN),
    ]
    assert out.startswith(body[: body.index(b"--b\r\nContent-Type: text/html")])  # the plain part, byte for byte
    assert removal.removed.as_dict() == {"pixels": 1, "links": 1}


def test_a_message_without_trackers_is_spliced_untouched() -> None:
    body = _message(b"<p>nothing to see</p>", "7bit").partition(b"\r\n\r\n")[2]
    removal = TrackerRemoval(Mode.PIXELS_AND_LINKS, HOSTS, "m1")
    sent = lines.sendable_body(b' multipart/alternative; boundary="b"', None, memoryview(body), b"\r\n", removal)
    assert b"".join(bytes(chunk) for chunk in sent.chunks) == body
    assert sent.rewritten == 0


def test_an_html_part_too_large_to_rewrite_is_left_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("postmask.mail.trackers.MAX_HTML_BYTES", len(HTML) - 1)
    removal = TrackerRemoval(Mode.PIXELS, HOSTS, "m1")
    assert removal.text(HTML, "utf-8", "text/html") is None
    assert removal.removed.as_dict() == {"pixels": 0, "links": 0}


def test_an_html_part_too_large_as_it_arrives_is_never_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Decoding is what costs (about 10x the part, bench/trackers.py): a part over the limit is passed on as it came.
    encoded = base64.encodebytes(HTML).replace(b"\n", b"\r\n")
    monkeypatch.setattr("postmask.mail.trackers.MAX_HTML_BYTES", len(encoded) - 1)

    def decoded(*_: object) -> bytes:
        raise AssertionError("a part over the limit was decoded")

    monkeypatch.setattr("postmask.mail.lines._decoded", decoded)
    body = _message(encoded, "base64").partition(b"\r\n\r\n")[2]
    removal = TrackerRemoval(Mode.PIXELS_AND_LINKS, HOSTS, "m1")
    sent = lines.sendable_body(b' multipart/alternative; boundary="b"', None, memoryview(body), b"\r\n", removal)
    assert b"".join(bytes(chunk) for chunk in sent.chunks) == body
    assert removal.removed.as_dict() == {"pixels": 0, "links": 0}


def test_html_parts_past_the_messages_budget_are_left_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = base64.encodebytes(HTML).replace(b"\n", b"\r\n")
    monkeypatch.setattr("postmask.mail.trackers.MAX_HTML_BYTES_PER_MESSAGE", 2 * len(encoded))
    part = b"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + encoded
    body = part + b"\r\n" + part + b"\r\n" + part + b"\r\n--b--\r\n"
    removal = TrackerRemoval(Mode.PIXELS_AND_LINKS, HOSTS, "m1")
    sent = lines.sendable_body(b' multipart/mixed; boundary="b"', None, memoryview(body), b"\r\n", removal)
    out = b"".join(bytes(chunk) for chunk in sent.chunks)
    message = message_from_bytes(b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + out)
    assert [payload for _, payload in leaf_payloads(message)] == [
        HTML_CLEAN,
        HTML_CLEAN,
        HTML,  # the third: past the budget, as it came
    ]
    assert removal.removed.as_dict() == {"pixels": 2, "links": 2}


def test_only_html_parts_are_rewritten() -> None:
    removal = TrackerRemoval(Mode.PIXELS_AND_LINKS, HOSTS, "m1")
    assert removal.text(HTML, "utf-8", "text/plain") is None
    assert removal.text(HTML, "utf-8", "text/html") == HTML_CLEAN


def test_the_operator_list_is_read_from_s3_once_and_a_missing_one_costs_only_its_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    from postmask.mail import inbox, tracking_hosts

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        inbox.s3.cache_clear()
        tracking_hosts.hosts.cache_clear()
        boto3.client("s3", region_name="eu-west-1").create_bucket(
            Bucket="ops", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        boto3.client("s3", region_name="eu-west-1").put_object(Bucket="ops", Key="t.txt", Body=b"click.mine.example\n")
        monkeypatch.setenv(tracking_hosts.TRACKER_LIST_ENV, "s3://ops/t.txt")
        hosts = tracking_hosts.hosts()
        assert hosts.tracked("x.click.mine.example")
        assert hosts.tracked("us1.list-manage.com")
        assert not hosts.tracked("mine.example")
        tracking_hosts.hosts.cache_clear()
        monkeypatch.setenv(tracking_hosts.TRACKER_LIST_ENV, "s3://ops/missing.txt")
        hosts = tracking_hosts.hosts()
        assert not hosts.tracked("x.click.mine.example")
        assert hosts.tracked("us1.list-manage.com")
    tracking_hosts.hosts.cache_clear()
    inbox.s3.cache_clear()
