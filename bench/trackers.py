"""Tracker removal from HTML parts of growing size: time and peak memory, to set `MAX_HTML_BYTES`.

    .venv/bin/python -m bench.trackers [--mib 0.25,1,2,4,8]

Each case is one message (a short text part and a `text/html` part of the given decoded size, quoted-printable
or base64, as mailers send it) forwarded with `pixels_and_links` through the forwarder's own path
(`postmask.mail.copies.forwarded_body`: the part decoded, tokenized, rewritten and re-encoded as base64). Two
kinds of HTML: tracker-dense (a newsletter of ~170-byte blocks, each with an open pixel and a link through a
tracking redirect with utm_* parameters: every block rewritten) and tracker-free (the same shape, ordinary links
and `cid:` images: tokenized, nothing changed). The limit is lifted while measuring so that every size is
rewritten; then, with the limits in force, one part over it (never decoded) and a message of ten 1 MiB parts
(rewritten until the message's budget; and without that budget, to compare). Peak is tracemalloc's
(Python allocations during the rewrite, the message itself made before tracing starts, the rewritten body kept as
the forwarder keeps it); time is a second run, without tracemalloc.
The forwarder's budget it is read against: its MemorySize (template.yaml) and the forward path's own peak
(bench/forwarder.py, README "Benchmarks").
"""

from __future__ import annotations

import argparse
import base64
import gc
import os
import quopri
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
KIB, MIB = 1024, 1024 * 1024
SIZES_MIB = (0.25, 1, 2, 4, 8)
ENCODINGS = ("quoted-printable", "base64")
KINDS = ("dense", "free")
MANY_PARTS = 10  # HTML parts of 1 MiB in one message: past the message's budget

# One block of each kind (~170 bytes); a part is as many blocks as its size takes, numbered so no two are alike.
_DENSE = (
    '<tr><td><a href="https://us1.list-manage.com/track/click?u=9f3&amp;id={n}&amp;url=https%3A%2F%2Fshop.example'
    '%2Fp%2F{n}%3Futm_source%3Dnews">Item {n}</a><img src="https://shop.example/o/{n}.gif" width="1" height="1" '
    'alt=""></td></tr>\n'
)
_FREE = (
    '<tr><td><a href="https://shop.example/products/{n}/spring-collection">Item {n}, in stock</a> '
    '<img src="cid:item{n}@shop.example" width="120" height="90" alt="Item {n}"></td></tr>\n'
)


def html_part(size: int, kind: str) -> bytes:
    """An HTML document of about `size` bytes made of `kind` blocks."""
    block = _DENSE if kind == "dense" else _FREE
    head, tail = "<html><body><table>\n", "</table></body></html>\n"
    pieces, total, number = [head], len(head) + len(tail), 0
    while total < size:
        piece = block.format(n=number)
        pieces.append(piece)
        total += len(piece)
        number += 1
    pieces.append(tail)
    return "".join(pieces).encode("ascii")


def message(html: bytes, encoding: str, parts: int = 1) -> bytes:
    """A multipart/mixed message as SES stores it (CRLF): a text part, then `parts` copies of the HTML part in
    `encoding`."""
    encoded = base64.encodebytes(html) if encoding == "base64" else quopri.encodestring(html)
    encoded = encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    html_part = b"".join(
        [
            b"--b0\r\nContent-Type: text/html; charset=utf-8\r\n",
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii"),
            encoded,
            b"\r\n",
        ]
    )
    return b"".join(
        [
            b"From: Shop <news@shop.example>\r\nTo: news@alice.example\r\nSubject: Spring\r\n",
            b"Message-ID: <bench@shop.example>\r\nMIME-Version: 1.0\r\n",
            b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n',
            b"--b0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOur spring sale.\r\n",
            html_part * parts,
            b"--b0--\r\n",
        ]
    )


def _forward(raw: bytes) -> tuple[Any, Any]:
    from postmask.mail.copies import forwarded_body
    from postmask.mail.message import RawMessage
    from postmask.mail.trackers import Mode

    return forwarded_body(RawMessage.parse(raw), "bench", Mode.PIXELS_AND_LINKS)


def one(size: int, kind: str, encoding: str, parts: int = 1) -> dict[str, Any]:
    """One case's figures: the part's sizes, the rewrite's peak and time, what it removed."""
    html = html_part(size, kind)
    raw = message(html, encoding, parts)
    gc.collect()
    tracemalloc.start()
    body, removed = _forward(raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out_bytes = sum(len(chunk) for chunk in body.chunks)
    del body
    gc.collect()
    started = time.perf_counter()
    _forward(raw)
    seconds = time.perf_counter() - started
    return {
        "kind": kind,
        "encoding": encoding,
        "parts": parts,
        "html_bytes": len(html),
        "message_bytes": len(raw),
        "body_out_bytes": out_bytes,
        "peak_bytes": peak,
        "peak_per_html_byte": peak / len(html),
        "seconds": seconds,
        "pixels": removed.pixels,
        "links": removed.links,
    }


def forwarder_memory_mb() -> int:
    """The forwarder's MemorySize in template.yaml."""
    from bench.forwarder import function_name
    from local import sam_template

    name = function_name()
    return int(sam_template.functions()[name]["Properties"]["MemorySize"]) if name else 0


def measure(sizes_mib: tuple[float, ...] = SIZES_MIB) -> dict[str, Any]:
    from postmask.mail import trackers

    limit, budget = trackers.MAX_HTML_BYTES, trackers.MAX_HTML_BYTES_PER_MESSAGE
    _forward(message(html_part(KIB, "dense"), "base64"))  # imports and caches made before anything is traced
    # Both limits lifted, so that every size is rewritten, to see what each would cost.
    trackers.MAX_HTML_BYTES = trackers.MAX_HTML_BYTES_PER_MESSAGE = 1 << 40
    try:
        cases = [one(int(mib * MIB), kind, encoding) for mib in sizes_mib for kind in KINDS for encoding in ENCODINGS]
        trackers.MAX_HTML_BYTES = limit
        unbudgeted = one(MIB, "dense", "base64", parts=MANY_PARTS)  # many parts under the limit, no budget
    finally:
        trackers.MAX_HTML_BYTES, trackers.MAX_HTML_BYTES_PER_MESSAGE = limit, budget
    # With the limits in force: a part over MAX_HTML_BYTES is passed on as it came, never decoded; a message of
    # many parts under it is rewritten until MAX_HTML_BYTES_PER_MESSAGE.
    over = one(4 * limit, "dense", "base64")
    many = one(MIB, "dense", "base64", parts=MANY_PARTS)
    return {
        "max_html_bytes": limit,
        "max_html_bytes_per_message": budget,
        "memory_size_mb": forwarder_memory_mb(),
        "cases": cases,
        "over_limit": over,
        "many_parts": many,
        "many_parts_without_budget": unbudgeted,
    }


def print_report(results: dict[str, Any], out: TextIO = sys.stdout) -> None:
    limit, memory = results["max_html_bytes"], results["memory_size_mb"]
    out.write(
        f"\nTracker removal, one HTML part rewritten (pixels_and_links); MAX_HTML_BYTES = {limit / MIB:g} MiB, "
        f"forwarder MemorySize {memory} MB\n"
    )
    out.write(
        f"{'HTML':>9} {'kind':<6} {'encoding':<17} {'message':>9} {'time':>8} {'peak':>9} {'peak/HTML':>9}"
        f" {'pixels':>7} {'links':>7}\n"
    )
    for case in results["cases"]:
        out.write(
            f"{case['html_bytes'] / MIB:7.2f}Mi {case['kind']:<6} {case['encoding']:<17} "
            f"{case['message_bytes'] / MIB:7.2f}Mi {case['seconds'] * 1000:6.0f}ms {case['peak_bytes'] / MIB:7.1f}Mi "
            f"{case['peak_per_html_byte']:8.1f}x {case['pixels']:>7} {case['links']:>7}\n"
        )
    over = results["over_limit"]
    out.write(
        f"Over the limit ({over['html_bytes'] / MIB:.2f} MiB, {over['encoding']}, left as it came): "
        f"{over['seconds'] * 1000:.0f} ms, peak {over['peak_bytes'] / MIB:.1f} MiB, "
        f"{over['pixels']} pixels and {over['links']} links removed\n"
    )
    budget = results["max_html_bytes_per_message"]
    for label, case in (
        (f"with MAX_HTML_BYTES_PER_MESSAGE {budget / MIB:g} MiB", results["many_parts"]),
        ("without that budget", results["many_parts_without_budget"]),
    ):
        out.write(
            f"{case['parts']} HTML parts of {case['html_bytes'] / MIB:.2f} MiB ({case['encoding']}) in a "
            f"{case['message_bytes'] / MIB:.1f} MiB message, {label}: {case['seconds'] * 1000:.0f} ms, "
            f"peak {case['peak_bytes'] / MIB:.1f} MiB, {case['pixels']} pixels and {case['links']} links removed\n"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", default=",".join(f"{size:g}" for size in SIZES_MIB), help="HTML sizes in MiB")
    args = parser.parse_args(argv)
    print_report(measure(tuple(float(size) for size in args.mib.split(","))))


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TABLE_NAME": "postmask-bench",  # settings are read whole; no table is used here
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }.items():
        os.environ.setdefault(name, value)
    main()
