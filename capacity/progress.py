"""Live progress for a run in the terminal (rich), and the closing summary."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from capacity.execute import RunResult, execute
from capacity.launch import check_reachable
from capacity.profile import RunSettings


def _num(row: dict[str, str], key: str, fmt: str = "{:.1f}") -> str:
    v = row.get(key, "")
    try:
        return fmt.format(float(v))
    except ValueError:
        return "—"


def run_with_progress(settings: RunSettings, console: Console, out: Console) -> int:
    """Run with a progress bar (phase, target vs sent rate, queue depth); print the folder and report."""
    duration = settings.shape.duration_s
    if settings.target:
        check_reachable(settings.target)  # fail before the progress display, before any load
    with Progress(
        TextColumn("[bold]{task.fields[phase]:<10}"),
        BarColumn(),
        TextColumn("{task.completed:>5.0f}/{task.total:.0f} s"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("run", total=duration, phase="starting", detail="")

        def on_row(row: dict[str, str]) -> None:
            detail = (f"target {_num(row, 'target_rate')} sent {_num(row, 'sent_rate')} msg/s · "
                      f"queue {_num(row, 'queue_depth', '{:.0f}')} · processed {_num(row, 'processed_rate')} · "
                      f"late {_num(row, 'late_sends', '{:.0f}')}")
            bar.update(task, completed=min(duration, float(row.get("t") or 0)), phase=row.get("phase", ""),
                       detail=detail)

        result = execute(settings, on_row=on_row, on_status=lambda m: console.print(f"[dim]{m}[/]"))
        bar.update(task, phase=result.ended)
    if result.model:
        cap = result.model["capacity_msgs_per_s"]
        console.print(f"capacity {cap['value']:.1f} msg/s (95% CI {cap['ci_low']:.1f}–{cap['ci_high']:.1f})")
    elif result.fit_error:
        console.print(f"[yellow]no model:[/] {result.fit_error}")
    console.print(f"run ended: {result.ended}")
    code = exit_code(settings, result, console)
    out.print(f"run folder: {result.folder}")
    if result.report:
        out.print(f"report: {result.report}")
    return code


#: documented exit codes of `capplan run` (README): 0 pass (or at risk without --fail-on at_risk),
#: 1 the target failed during the run, 2 bad input, 4 at risk with --fail-on at_risk, 5 SLO failed
EXIT_TARGET_FAILED = 1


def exit_code(settings: RunSettings, result: RunResult, console: Console) -> int:
    """Judge the run against its SLO (capacity.verdict) and turn the verdict into an exit code."""
    from capacity.runs import read_run
    from capacity.verdict import verdict

    run = read_run(result.folder)
    v = verdict(result.model, run.timeseries, settings.slo_p99_ms, settings.slo_error_rate, settings.min_headroom,
                queue_limit=run.meta.get("queue_limit"))
    colour = {"pass": "green", "at_risk": "yellow", "fail": "red"}[v.status]
    console.print(f"verdict: [bold {colour}]{v.label}[/]")
    for reason in v.reasons:
        console.print(f"  - {reason}", highlight=False)
    if result.ended == "target_failed":
        return EXIT_TARGET_FAILED
    if v.status == "fail" or (v.status == "at_risk" and settings.fail_on == "at_risk"):
        return v.exit_code
    return 0
