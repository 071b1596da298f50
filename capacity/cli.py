"""The ``capplan`` command line. Commands are thin: parse, call one library function, render.

Every CapacityError becomes one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from capacity import profile
from capacity.errors import CapacityError

app = typer.Typer(
    help="capplan: surge-test a messaging service with Locust and plan its capacity.\n\n"
    "Example: capplan run surge   (runs against the built-in demo and writes a report)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
run_app = typer.Typer(help="Run a load scenario and write a run folder, model and report.", no_args_is_help=True)
demo_app = typer.Typer(help="The built-in demo messaging service and reference consumers.", no_args_is_help=True)
app.add_typer(run_app, name="run")
app.add_typer(demo_app, name="demo")

console = Console(stderr=True)
out = Console()

EXIT_ERROR = 2


def fail(e: CapacityError) -> None:
    console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_ERROR)


# -- run <scenario>: options generated from capacity.profile's one table ------------------------

_PY_TYPES: dict[Any, Any] = {float: float | None, int: int | None, str: str | None,
                             "choice": str | None, "list": list[str] | None}


def _run_command(scenario: str) -> Any:
    def command(**kwargs: Any) -> None:
        prof = kwargs.pop("profile", None)
        given = {k: v for k, v in kwargs.items() if v is not None}
        given["scenario_from_cli"] = True
        try:
            settings = profile.resolve(scenario, given, prof)
            from capacity.progress import run_with_progress

            code = run_with_progress(settings, console, out)
        except CapacityError as e:
            fail(e)
        raise typer.Exit(code)

    params = [inspect.Parameter("profile", inspect.Parameter.KEYWORD_ONLY, default=None,
                                annotation=Annotated[Path | None, typer.Option(  # noqa: UP007
                                    "--profile", help="TOML file with any of these options; flags win.")])]
    for opt in profile.options_for(scenario):
        panel = "Demo service (when no --target)" if opt.name.startswith("demo_") else (
            "Shape" if opt.scenarios else "Run")
        default_txt = "" if opt.default in (None, []) else f" (default {opt.default})"
        params.append(inspect.Parameter(
            opt.name, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[_PY_TYPES[opt.kind], typer.Option(
                opt.flag, help=opt.help + default_txt, rich_help_panel=panel, show_default=False)],
        ))
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = {
        "surge": "Surge: baseline, ramp, surge at a multiple of the baseline, recovery.\n\n"
                 "Example: capplan run surge --baseline-rate 100 --surge-multiplier 3 "
                 "--target http://127.0.0.1:8080 --source demo",
        "step": "Step: a staircase of rates up to and past saturation (the best data for fitting).\n\n"
                "Example: capplan run step --start-rate 20 --step-rate 20 --steps 8",
        "spike": "Spike: baseline, an instant jump to a multiple of the baseline, instant drop, recovery.\n\n"
                 "Example: capplan run spike --baseline-rate 50 --spike-multiplier 5 --spike-duration 5",
        "soak": "Soak: a constant rate for a long time (leaks, slow drift).\n\n"
                "Example: capplan run soak --soak-rate 50 --soak-duration 1800",
    }[scenario]
    return command


for _scenario in profile.SCENARIOS:
    run_app.command(_scenario)(_run_command(_scenario))


# -- demo ---------------------------------------------------------------------------------------

@demo_app.command("serve")
def demo_serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one and prints it.")] = 8080,
    workers: Annotated[int, typer.Option(help="Consumers C.")] = 4,
    service_time_ms: Annotated[float, typer.Option(help="Mean service time S in ms.")] = 40.0,
    service_dist: Annotated[str, typer.Option(help="exp, const or lognormal.")] = "exp",
    service_scv: Annotated[float, typer.Option(help="Service-time SCV (lognormal).")] = 1.0,
    queue_limit: Annotated[int, typer.Option(help="Queue limit; POSTs beyond it get 503.")] = 5000,
    seed: Annotated[int | None, typer.Option(help="Random seed for service times.")] = None,  # noqa: UP007
) -> None:
    """Serve the demo messaging service (capacity C/S msg/s) until Ctrl-C.

    Example: capplan demo serve --port 8080 --workers 4 --service-time-ms 40
    """
    from capacity.demo.service import DemoConfig, serve

    try:
        cfg = DemoConfig(workers, service_time_ms, service_dist, service_scv, queue_limit, seed)
    except CapacityError as e:
        fail(e)
    serve(cfg, host, port)


@demo_app.command("consume")
def demo_consume(
    from_url: Annotated[str, typer.Option("--from", help="Queue to consume: amqp://...?queue=q, "
                                          "redis://...?list=q or ?stream=s&group=g, nats://...?stream=S&consumer=C")],
    workers: Annotated[int, typer.Option(help="Consumers C.")] = 4,
    service_time_ms: Annotated[float, typer.Option(help="Mean service time S in ms.")] = 40.0,
    service_dist: Annotated[str, typer.Option(help="exp, const or lognormal.")] = "exp",
    service_scv: Annotated[float, typer.Option(help="Service-time SCV (lognormal).")] = 1.0,
    metrics_host: Annotated[str, typer.Option(help="Address for /metrics.")] = "127.0.0.1",
    metrics_port: Annotated[int, typer.Option(help="Port for /metrics; 0 picks a free one and prints it.")] = 0,
    prefetch: Annotated[int, typer.Option(help="Messages in flight per consumer.")] = 1,
    seed: Annotated[int | None, typer.Option(help="Random seed for service times.")] = None,  # noqa: UP007
    stop_after: Annotated[float | None, typer.Option(help="Exit after this many seconds.")] = None,  # noqa: UP007
) -> None:
    """Reference consumers with known capacity C/S behind a real broker; serves /metrics like the demo.

    Example: capplan demo consume --from "amqp://guest:guest@127.0.0.1:5672/%2F?queue=orders" --workers 4
    """
    from capacity.demo.consume import run_consumer

    try:
        run_consumer(from_url, workers, service_time_ms, service_dist, service_scv, metrics_host, metrics_port,
                     seed, prefetch, stop_after)
    except CapacityError as e:
        fail(e)


# -- fit / report --------------------------------------------------------------------------------

@app.command("fit")
def fit_cmd(run_dir: Annotated[Path, typer.Argument(help="A run folder, e.g. reports/20261203-141502-surge")]) -> None:
    """Fit the queueing model to a run folder and write model.json.

    Example: capplan fit reports/20261203-141502-surge
    """
    from capacity import pipeline

    try:
        path = pipeline.fit_and_save(run_dir)
    except CapacityError as e:
        fail(e)
    out.print(str(path))


@app.command("report")
def report_cmd(run_dir: Annotated[Path, typer.Argument(help="A run folder")]) -> None:
    """Write (or rewrite) report.html for a run folder, fitting first if the folder has no model.

    Example: capplan report reports/20261203-141502-surge
    """
    from capacity import pipeline
    from capacity.report import render
    from capacity.runs import read_run

    try:
        run = read_run(run_dir)
        if run.model() is None:
            res = pipeline.finalize(run_dir)
            path = res.report
        else:
            path = render.write_report(run)
    except CapacityError as e:
        fail(e)
    out.print(str(path))


@app.command("plan")
def plan_cmd(
    model: Annotated[Path | None, typer.Argument(help="model.json or a run folder")] = None,  # noqa: UP007
    servers: Annotated[int | None, typer.Option(help="Consumers c (instead of a model).")] = None,  # noqa: UP007
    service_time_ms: Annotated[float | None, typer.Option(help="Mean service time in ms.")] = None,  # noqa: UP007
    service_scv: Annotated[float, typer.Option(help="Service-time SCV (1 = exponential).")] = 1.0,
    baseline_rate: Annotated[float | None, typer.Option(help="Baseline rate, msg/s.")] = None,  # noqa: UP007
    slo_p99_ms: Annotated[float | None, typer.Option(help="p99 latency SLO in ms.")] = None,  # noqa: UP007
    queue_limit: Annotated[float | None, typer.Option(help="Queue limit, messages.")] = None,  # noqa: UP007
    surge_duration: Annotated[float | None, typer.Option(help="Surge duration in s.")] = None,  # noqa: UP007
    multipliers: Annotated[str, typer.Option(help="Comma-separated surge multipliers.")] = "1.5,2,3,5,10",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """What-if planning: headroom, SLO capacity, surge tolerance and consumers needed.

    Example: capplan plan reports/20261203-141502-surge --surge-duration 600
    Example: capplan plan --servers 4 --service-time-ms 40 --baseline-rate 50 --queue-limit 5000
    """
    from capacity import planning_cli

    try:
        doc = planning_cli.plan_document(model, servers, service_time_ms, service_scv, baseline_rate, slo_p99_ms,
                                         queue_limit, surge_duration, multipliers)
    except CapacityError as e:
        fail(e)
    if as_json:
        import json

        out.print_json(json.dumps(doc))
    else:
        planning_cli.print_plan(doc, out)


@app.command("usl")
def usl_cmd(
    data: Annotated[Path, typer.Argument(help="CSV with columns concurrency,throughput")],
    level: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit the Universal Scalability Law (sigma, kappa, lambda) to throughput-vs-concurrency data.

    Example: capplan usl measurements.csv --json
    """
    from capacity.usl_data import fit_usl_file, usl_summary

    try:
        fit = fit_usl_file(data, level)
    except CapacityError as e:
        fail(e)
    doc = usl_summary(fit)
    if as_json:
        import json

        out.print_json(json.dumps(doc))
        return
    pct = f"{level:.0%}"
    for name, key in (("sigma (contention)", "sigma"), ("kappa (coherency)", "kappa"), ("lambda (X at n=1)", "lambda")):
        lo, hi = doc["ci"][key]  # type: ignore[index]
        out.print(f"{name:<20} {doc[key]:.6g}  ({pct} CI {lo:.4g} to {hi:.4g})")
    out.print(f"peak concurrency     {doc['peak_concurrency'] if doc['peak_concurrency'] is not None else 'none'}")
    out.print(f"max throughput       {doc['max_throughput'] if doc['max_throughput'] is not None else 'unbounded'}")
    out.print(f"R^2                  {doc['r_squared']:.4f} over {doc['n_points']} points")
    if doc["at_bound"]:
        out.print(f"at a bound: {', '.join(doc['at_bound'])}")  # type: ignore[arg-type]


# -- ui: Locust's web UI with capplan's plugin and Capacity tab ----------------------------------

def _ui_command() -> Any:
    def command(**kwargs: Any) -> None:
        from capacity import ui

        prof = kwargs.pop("profile", None)
        try:
            web = ui.WebOptions(kwargs.pop("web_host"), kwargs.pop("web_port"), kwargs.pop("web_login"),
                                kwargs.pop("web_auth"))  # --processes travels in the settings
            given = {k: v for k, v in kwargs.items() if v is not None}
            given["scenario_from_cli"] = True
            settings = profile.resolve("surge", given, prof)
            code = ui.serve(settings, web, lambda msg: console.print(msg, highlight=False, soft_wrap=True))
        except CapacityError as e:
            fail(e)
        raise typer.Exit(code)

    opt_str = Optional[str]  # noqa: UP007, UP045
    web_params = [
        ("web_host", str, "127.0.0.1", "Address the web UI binds to; '*' or 0.0.0.0 for every interface."),
        ("web_port", int, 8089, "Port of the web UI."),
        ("web_login", bool, False, "Ask for a username and password (--web-auth or CAPPLAN_WEB_AUTH)."),
        ("web_auth", opt_str, None, "user:password for the login page and basic auth; implies --web-login."),
    ]
    params = list(inspect.signature(_run_command("surge")).parameters.values())
    for name, kind, default, help_text in web_params:
        option = typer.Option("--" + name.replace("_", "-"), help=help_text, rich_help_panel="Web UI")
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[kind, option]))
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = ("Open Locust's web UI on the surge locustfile with a live Capacity tab; the options "
                       "here are the start form's defaults.\n\n"
                       "Example: capplan ui --baseline-rate 30 --surge-multiplier 2.5 --web-port 8089")
    return command


app.command("ui")(_ui_command())


@app.command("compare")
def compare_cmd(
    run_a: Annotated[Path, typer.Argument(help="Run A, the baseline (before)")],
    run_b: Annotated[Path, typer.Argument(help="Run B, the candidate (after)")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="HTML file to write (default: compare-<A>.html in B's folder).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Compare two runs side by side; exit 3 when B regressed against A beyond the intervals' noise.

    Example: capplan compare reports/20261203-141502-surge reports/20261204-090000-surge --out cmp.html
    """
    import json

    from capacity.compare import compare_folders

    try:
        cmp, path = compare_folders(run_a, run_b, out_file)
    except CapacityError as e:
        fail(e)
    if as_json:
        sys.stdout.write(json.dumps({**cmp.as_dict(), "html": str(path)}, indent=2) + "\n")
    else:
        out.print(cmp.summary(), highlight=False, soft_wrap=True)
        out.print(f"report: {path}", highlight=False, soft_wrap=True)
    raise typer.Exit(cmp.exit_code)


def main() -> None:
    try:
        app()
    except CapacityError as e:  # a library error outside a command's own handler
        console.print(f"[bold red]error:[/] {e}", highlight=False)
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
