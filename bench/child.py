import time

STARTED, STARTED_CPU = time.perf_counter(), time.process_time()  # from here on, all is the function's cold start

"""One Lambda execution environment, started cold: `python -S bench/child.py SPEC RESULT_FD`.

Plays the part of the Lambda runtime: the function's directory, layers and runtime packages on sys.path and
nothing else (bench/lambda_env.py), its directory as the working directory, its handler imported, then the
events of SPEC served one after the other, the first one cold.

Results go to RESULT_FD: one byte as soon as the first response is back (the benchmark's wall clock stops),
then one JSON object: `init_ms` (imports and module-level work), `first_ms` (the first request), `warm_ms`
(the others), the same in CPU time (`init_cpu_ms`, `first_cpu_ms`), each response's status, the process's
peak resident memory and, when SPEC names one (`trace_request`), the peak of Python allocations during that
request (tracemalloc), and what a handler that answers no HTTP request returned (`summaries`). The
function's own output (its logs) goes to stdout and stderr, as in Lambda.

It imports nothing from the project (no `local`, no `postmask`): a real runtime would not have them loaded.
"""

import importlib  # noqa: E402 - after the clock starts, on purpose
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


class Context:
    """The Lambda context attributes Powertools reads."""

    def __init__(self, function_name: str, memory_mb: int, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _status(result: object) -> int:
    if isinstance(result, dict) and "isAuthorized" in result:  # an authorizer's simple response
        return 200 if result["isAuthorized"] else 403
    if isinstance(result, dict) and "statusCode" in result:
        return int(result["statusCode"])
    return 200


def _summary(result: object) -> object:
    """What a handler that answers no HTTP request returned (the forwarder's summary of what it sent), else None."""
    if isinstance(result, dict) and "isAuthorized" not in result and "statusCode" not in result:
        return result
    return None


def _peak_resident_bytes() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries it over from the parent
    through fork and exec, so a child of a large benchmark process would report the benchmark's size."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # in kB
    return 0


def main() -> None:
    spec_path, result_fd = sys.argv[1], int(sys.argv[2])
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path[:1] = spec["sys_path"]  # in place of this script's directory
    os.chdir(spec["code_dir"])
    profiler = None
    if spec.get("profile"):  # `python -m bench.profile`: where init and the first request spend their time
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    module_name, _, attribute = spec["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    initialised, initialised_cpu = time.perf_counter(), time.process_time()

    out = os.fdopen(result_fd, "w")
    traced = spec.get("trace_request")  # the request whose Python allocations are traced, if any
    if traced is not None:
        import tracemalloc
    timings: list[float] = []
    statuses: list[int] = []
    summaries: list[object] = []
    for number, event in enumerate(spec["events"]):
        if number:  # Lambda sets a new trace header for every request
            trace = os.urandom(16).hex()
            os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{trace[:8]}-{trace[8:]};Parent={trace[:16]};Sampled=1"
        context = Context(spec["function_name"], spec["memory_mb"], f"bench-{number}")
        if number == traced:
            tracemalloc.start()
        started = time.perf_counter()
        result = handler(event, context)
        timings.append((time.perf_counter() - started) * 1000)
        statuses.append(_status(result))
        summaries.append(_summary(result))
        if number == traced:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if not number:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(spec["profile"])
            first_cpu = time.process_time()
            out.write("1")  # the first response is back: the benchmark stops its wall clock
            out.flush()

    report = {
        "init_ms": (initialised - STARTED) * 1000,
        "first_ms": timings[0],
        # CPU time of this process (what the machine's other load disturbs least): init, then the first request
        "init_cpu_ms": (initialised_cpu - STARTED_CPU) * 1000,
        "first_cpu_ms": (first_cpu - initialised_cpu) * 1000,
        "warm_ms": timings[1:],
        "statuses": statuses,
        "summaries": summaries,
        "peak_traced_bytes": peak if traced is not None else None,
        "max_rss_bytes": _peak_resident_bytes(),
    }
    with out:
        out.write(json.dumps(report))
    # Done: skip the interpreter's teardown (the benchmark would wait for it); the function's logs are flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
