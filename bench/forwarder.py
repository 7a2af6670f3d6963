"""The mail forwarder: its cold start next to a minimal forwarder's, and its memory and time per message size.

Mail arrives as SES delivers it (local/ses.py builds what the S3 action stores and the event the Lambda action
sends): stored in the moto server's S3, the forwarder started in a fresh process (bench/child.py) with the event,
sending through the moto server's SESv2 to the alias's destination. For each size, a process forwards a small
message then the large one: one such process measures the peak of Python allocations during the large one
(tracemalloc, which slows it down), another its time and the process's peak resident memory (what Lambda's
memory size must hold, interpreter and libraries included).

Skipped, saying so, while functions/forwarder is not on the branch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bench.coldstart import ChildRun, XRaySink, run_child
from bench.lambda_env import FunctionSpec
from bench.scenarios import World
from local import sam_template

CODE_DIR = sam_template.ROOT / "functions" / "forwarder"
FLOOR_DIR = Path(__file__).resolve().parent / "floor_forwarder"
BUCKET = "postmask-bench-mail"
SIZES_MB = (1, 10, 30)
REPLY_MB = 30  # the reply path (a destination's answer to a contact, scrubbed) is measured at this size
COLD_MESSAGE_BYTES = 20 * 1024
MIB = 1024 * 1024
SENDER = "sender@example.net"


def function_name(template: dict[str, Any] | None = None) -> str | None:
    """The forwarder's logical id, when the template has it."""
    for name, resource in sam_template.functions(template).items():
        if Path(resource["Properties"].get("CodeUri", "")).parts[-1:] == ("forwarder",):
            return name
    return None


def measure(
    spec: Callable[..., FunctionSpec], world: World, workdir: Path, xray: XRaySink, *, rounds: int
) -> dict[str, Any]:
    name = function_name()
    if name is None or not (CODE_DIR / "app.py").is_file():
        return {"skipped": "functions/forwarder is not on this branch yet (issue 7): no forwarder figures"}
    try:
        import boto3

        from local.ses import receipt_event, stored_message
        from tests.support.mail import large_message
    except ImportError as exc:
        return {"skipped": f"the forwarder's test support is missing ({exc})"}

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    boto3.client("sesv2").create_email_identity(EmailIdentity=world.domain)
    recipient = f"shop0@{world.domain}"  # seed_world's first alias, to one destination
    numbers = iter(range(1_000_000))

    def event(content: bytes, *, sender: str = SENDER, to: str = recipient) -> dict[str, Any]:
        message_id = f"bench{next(numbers):08d}"  # a new message each time: a repeated id is not sent twice
        stored = stored_message(content, message_id=message_id, envelope_sender=sender, recipients=[to])
        s3.put_object(Bucket=BUCKET, Key=f"inbound/{message_id}", Body=stored)
        return receipt_event(stored, message_id=message_id, envelope_sender=sender, recipients=[to])

    refs = {"MailBucket": BUCKET}
    forwarder = spec(name, refs=refs)
    floor = spec(name, refs=refs, code_dir=FLOOR_DIR, handler="app.lambda_handler", layers=False)

    small, _ = large_message(COLD_MESSAGE_BYTES * 3 // 4)
    cold: dict[str, list[ChildRun]] = {"function": [], "floor": []}
    for number in range(rounds):
        pairs = [(forwarder, cold["function"]), (floor, cold["floor"])]
        for run_spec, results in pairs if number % 2 == 0 else reversed(pairs):
            results.append(run_child(run_spec, [event(small)], workdir, xray))

    by_size = []
    for megabytes in SIZES_MB:
        content, _ = large_message(megabytes * MIB * 3 // 4)  # base64 makes the message 4/3 of the attachment
        # A small message first, so that the large one's figures are its own (not the imports of a cold start).
        by_size.append(_large_after_small(forwarder, _events(event, small, content), len(content), workdir, xray))
    reply = _reply_path(forwarder, world, event, workdir, xray)
    function_cold = sorted(run.cold_ms for run in cold["function"])
    floor_cold = sorted(run.cold_ms for run in cold["floor"])
    median_function, median_floor = function_cold[len(function_cold) // 2], floor_cold[len(floor_cold) // 2]
    rss = sorted(run.max_rss_bytes for run in cold["function"])
    return {
        "function": name,
        "memory_size_mb": forwarder.memory_mb,
        "baseline_rss_bytes": rss[len(rss) // 2],  # a process that forwarded one small message
        "cold_ms": median_function,
        "floor_cold_ms": median_floor,
        "cold_ratio": median_function / median_floor if median_floor else math.nan,
        "by_size": by_size,
        "reply": reply,
    }


def _reply_path(
    forwarder: FunctionSpec, world: World, event: Callable[..., dict[str, Any]], workdir: Path, xray: XRaySink
) -> dict[str, Any]:
    """A destination's answer to a contact's reply address, REPLY_MB large: authenticated, rebuilt, its text part
    (which names the destination) scrubbed, its attachment passed through, sent to the contact."""
    from bench.scenarios import DESTINATION
    from postmask.store import contacts
    from tests.support.mail import large_message

    contact = contacts.create(world.alice.user_id, world.alias_ids[0], f"contact{id(world)}@outside.example", None)
    content, _ = large_message(REPLY_MB * MIB * 3 // 4)
    content = (
        content.replace(b"From: Big Sender <big@sender.example>", f"From: Me <{DESTINATION}>".encode(), 1)
        .replace(b"To: big@alice.example", f"To: {contact.reply_address}".encode(), 1)
        .replace(b"The attachment follows.", f"The attachment follows. Write to {DESTINATION}.".encode(), 1)
    )
    small, _ = large_message(COLD_MESSAGE_BYTES * 3 // 4)

    def answer(data: bytes) -> dict[str, Any]:
        return event(data, sender=DESTINATION, to=contact.reply_address)

    return _large_after_small(forwarder, _events(answer, small, content), len(content), workdir, xray)


def _events(event: Callable[[bytes], dict[str, Any]], small: bytes, large: bytes) -> Callable[[], list[dict[str, Any]]]:
    """New events for the small then the large message each time it is called."""
    return lambda: [event(small), event(large)]


def _large_after_small(
    forwarder: FunctionSpec,
    events: Callable[[], list[dict[str, Any]]],
    size: int,
    workdir: Path,
    xray: XRaySink,
) -> dict[str, Any]:
    """A small message first, so that the large one's figures are its own (not the imports of a cold start): one
    process traces the large one's Python allocations, another times it. Each gets new messages (`events`): a
    message already sent is not sent again."""
    traced = run_child(forwarder, events(), workdir, xray, trace_request=1)
    timed = run_child(forwarder, events(), workdir, xray)
    peak = traced.peak_traced_bytes or 0
    return {
        "message_bytes": size,
        "peak_traced_bytes": peak,
        "peak_over_message": peak / size,
        "request_ms": timed.warm_ms[0],
        "max_rss_bytes": timed.max_rss_bytes,
        "statuses": traced.statuses + timed.statuses,
    }


def print_report(result: dict[str, Any], out: TextIO) -> None:
    out.write("\n5. Forwarder\n")
    if "skipped" in result:
        out.write(f"   skipped: {result['skipped']}\n")
        return
    out.write(
        f"   cold start (20 KB message): {result['cold_ms']:.0f} ms, floor {result['floor_cold_ms']:.0f} ms, "
        f"{result['cold_ratio']:.2f}x\n"
    )
    out.write(f"   {'message':>9} {'peak (tracemalloc)':>19} {'x message':>10} {'time':>8} {'max RSS':>9}\n")
    for row in result["by_size"]:
        out.write(
            f"   {row['message_bytes'] / MIB:>6.1f} MB {row['peak_traced_bytes'] / MIB:>16.1f} MB "
            f"{row['peak_over_message']:>9.2f}x {row['request_ms']:>6.0f} ms {row['max_rss_bytes'] / MIB:>6.0f} MB\n"
        )
    reply = result.get("reply")
    if reply:
        out.write(
            f"   reply path: {reply['message_bytes'] / MIB:.1f} MB, peak {reply['peak_traced_bytes'] / MIB:.1f} MB "
            f"= {reply['peak_over_message']:.2f}x, {reply['request_ms']:.0f} ms, max RSS "
            f"{reply['max_rss_bytes'] / MIB:.0f} MB (a destination's answer to a contact, its text scrubbed)\n"
        )
    out.write(
        f"   time: the large message, after a small one; max RSS: the whole process (one small message alone: "
        f"{result['baseline_rss_bytes'] / MIB:.0f} MB); the function's MemorySize is {result['memory_size_mb']} MB\n"
    )
