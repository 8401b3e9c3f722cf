"""The `kraken` command: the SDK from a shell, with tables for people, --json for scripts and stable exit codes."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from kraken import auth, errors
from kraken.client import Kraken, connect
from kraken.display import text_table
from kraken.model import Model, describe_deployment, model_row, parse_weights
from kraken.rollouts import (
    GUARDRAILS,
    REPLAY_COLUMNS,
    ROLLOUT_COLUMNS,
    SHADOW_COLUMNS,
    Rollout,
    comparison_row,
    parse_steps,
    replay_row,
    rollout_row,
)

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_NOT_SIGNED_IN = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_UNAVAILABLE = 5
EXIT_TIMEOUT = 6
EXIT_MODEL_FAILED = 7
EXIT_ROLLOUT_FAILED = 8

EXIT_CODES_HELP = """exit codes (scripts can rely on them):
  0  done
  1  usage error, or the request was refused as invalid (400, 403, 422)
  2  not signed in, or the sign-in was refused (401): run `kraken login`
  3  not found (404): no such model, version, entry or client
  4  conflict (409): a stale revision, or the model's state does not allow it
  5  the server failed or could not be reached (5xx, network, throttled): retry later
  6  a wait timed out
  7  the model (or a version of it) FAILED, or a replay did; the message is its statusReason
  8  a rollout waited for (--wait) ended ROLLED_BACK or ABORTED; the output shows its reason

environment: KRAKEN_URL, KRAKEN_USERNAME, KRAKEN_PASSWORD (instead of a prompt).
The session (URL and tokens, never printed) is kept in $XDG_CONFIG_HOME/kraken/session.json
(default ~/.config/kraken/session.json), readable by its owner only (0600)."""


def exit_code(error: Exception) -> int:
    """The documented exit code for an error (the most specific class wins)."""
    codes: list[tuple[type[Exception], int]] = [
        (errors.Unauthorized, EXIT_NOT_SIGNED_IN),
        (errors.NotFound, EXIT_NOT_FOUND),
        (errors.Conflict, EXIT_CONFLICT),
        (errors.ServerError, EXIT_UNAVAILABLE),
        (errors.Throttled, EXIT_UNAVAILABLE),
        (errors.Timeout, EXIT_TIMEOUT),
        (errors.ModelFailed, EXIT_MODEL_FAILED),
        (errors.ReplayFailed, EXIT_MODEL_FAILED),
    ]
    return next((code for kind, code in codes if isinstance(error, kind)), EXIT_USAGE)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; here 2 means "not signed in", so usage errors exit 1."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _show(
    args: argparse.Namespace, value: Any, rows: Sequence[dict[str, Any]] | None = None, columns: Sequence[str] = ()
) -> None:
    """`value` as JSON with --json, else `rows` as a table (or `value` as JSON when there is no table form)."""
    if args.json or rows is None:
        _print_json(value)
    elif rows:
        print(text_table(rows, columns))
    else:
        print("(none)")


# Commands: each takes the parsed arguments and the connection, prints, and returns nothing.


def _model(k: Kraken, args: argparse.Namespace) -> Model:
    return k.model(args.name)


def models_list(k: Kraken, args: argparse.Namespace) -> None:
    found = k.models(search=args.search, status=args.status)
    _show(args, [m.record for m in found], [model_row(m.record) for m in found], ["name", "status", "deployment", "id"])


def models_get(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args)
    row = model_row(model.record)
    _show(args, model.record, [row], ["name", "status", "deployment", "statusReason", "id"])


def models_create(k: Kraken, args: argparse.Namespace) -> None:
    model = k.create_model(
        args.name, artifact_format=args.format, docker_image=args.image, cpu=args.cpu, memory=args.memory
    )
    _show(args, model.record, [model_row(model.record)], ["name", "status", "id"])


def models_delete(k: Kraken, args: argparse.Namespace) -> None:
    _model(k, args).delete(force=args.force)
    _show(args, {"deleted": args.name}, [{"deleted": args.name}], ["deleted"])


def deploy(k: Kraken, args: argparse.Namespace) -> None:
    model = k.deploy(
        Path(args.file),
        name=args.name,
        format=args.format,
        wait=not args.no_wait,
        notes=args.notes,
        timeout=args.timeout,
        progress=not args.json and sys.stderr.isatty(),
        traffic=args.traffic,
    )
    _show(args, model.record, [model_row(model.record)], ["name", "status", "deployment", "id"])


def versions(k: Kraken, args: argparse.Namespace) -> None:
    found = _model(k, args).versions()
    rows = [{**v.record, "artifact": (v.record.get("artifact") or {}).get("size")} for v in found]
    _show(
        args,
        [v.record for v in found],
        rows,
        ["number", "status", "serving", "artifactFormat", "artifact", "notes", "createdAt"],
    )


def traffic(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args).deploy(
        parse_weights(args.weights), message=args.message, wait=args.wait, timeout=args.timeout
    )
    _show(args, model.record, [model_row(model.record)], ["name", "status", "deployment"])


def rollback(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args).rollback(args.entry, message=args.message, wait=args.wait, timeout=args.timeout)
    _show(args, model.record, [model_row(model.record)], ["name", "status", "deployment"])


def history(k: Kraken, args: argparse.Namespace) -> None:
    entries = _model(k, args).history_entries(args.limit)
    rows = [{**e, "deployment": describe_deployment(e.get("spec") or [])} for e in entries]
    _show(args, entries, rows, ["at", "action", "actor", "deployment", "message", "entryId"])


def start(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args).start()
    if args.wait:
        model.wait("RUNNING", args.timeout)
    _show(args, model.record, [model_row(model.record)], ["name", "status", "deployment"])


def stop(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args).stop()
    if args.wait:
        model.wait("STOPPED", args.timeout)
    _show(args, model.record, [model_row(model.record)], ["name", "status"])


def wait(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args).wait(args.status, args.timeout)
    _show(args, model.record, [model_row(model.record)], ["name", "status", "deployment"])


def _progress(args: argparse.Namespace) -> bool:
    """A progress bar on stderr for a person at a terminal, never with --json."""
    return not args.json and sys.stderr.isatty()


def _short(text: Any, width: int = 60) -> str:
    shown = " ".join(str(text).split())
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def replay(k: Kraken, args: argparse.Namespace) -> None:
    started = _model(k, args).replay(
        args.version,
        status=None if args.status == "all" else args.status,
        limit=args.limit,
        absolute=args.tolerance,
        relative=args.relative,
        rate=args.rate,
        wait=args.wait,
        timeout=args.timeout,
        progress=_progress(args),
    )
    _show(args, started.record, [replay_row(started.record)], REPLAY_COLUMNS)
    largest = started.record.get("largest") or []
    if largest and not args.json:
        body_columns = ("requestBody", "baselineBody", "candidateBody")
        rows = [{**row, **{c: _short(row.get(c)) for c in body_columns}} for row in largest]
        print("\nlargest differences:")
        print(text_table(rows, ["where", "size", "baselineBody", "candidateBody", "requestBody", "requestId"]))


def replays(k: Kraken, args: argparse.Namespace) -> None:
    found = _model(k, args).replays(args.limit)
    _show(args, [r.record for r in found], [replay_row(r.record) for r in found], REPLAY_COLUMNS)


def shadow(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args)
    if args.version is None:
        results = model.shadow_results()
        _show(args, [r.record for r in results], [comparison_row(r.record) for r in results], SHADOW_COLUMNS)
        return
    if args.percent is None:
        raise ValueError("give the shadow's PERCENT (1..100, or 0 to end it) after the VERSION")
    model.shadow(
        args.version,
        args.percent,
        absolute=args.tolerance,
        relative=args.relative,
        message=args.message,
        wait=args.wait,
        timeout=args.timeout if args.timeout is not None else 300,
    )
    _show(args, model.record, [model_row(model.record)], ["name", "status", "deployment"])


def rollout(k: Kraken, args: argparse.Namespace) -> int:
    model = _model(k, args)
    if args.version is not None and args.act:
        raise ValueError(f"--{args.act} acts on the current rollout: give no VERSION with it")
    if args.version is not None:
        guardrails = {name: getattr(args, name) for name in GUARDRAILS if getattr(args, name) is not None}
        plan = model.rollout(
            args.version,
            parse_steps(args.steps),
            args.bake,
            args.message,
            wait=args.wait,
            timeout=args.timeout,
            progress=_progress(args),
            **guardrails,
        )
    else:
        plan = model.current_rollout()
        act = {"pause": plan.pause, "resume": plan.resume, "promote": plan.promote, "abort": plan.abort}
        if args.act in act:
            act[args.act]()
        if args.wait:
            plan.wait(args.timeout, progress=_progress(args))
    _show_rollout(args, plan)
    return EXIT_ROLLOUT_FAILED if args.wait and plan.status in ("ROLLED_BACK", "ABORTED") else EXIT_OK


def _show_rollout(args: argparse.Namespace, plan: Rollout) -> None:
    _show(args, plan.record, [rollout_row(plan.record)], ROLLOUT_COLUMNS)
    if not args.json:
        print("\ndecisions:")
        rows = [{**d, "step": int(d["step"]) + 1} for d in plan.record.get("decisions") or []]  # 1-based, as above
        print(text_table(rows, ["at", "step", "weight", "verdict", "actor", "reason"]))


def read_input(given: str | None) -> Any:
    """The prediction input: JSON from the argument, `@file`, or `-`/nothing for standard input."""
    if given is None or given == "-":
        text = sys.stdin.read()
    elif given.startswith("@"):
        text = Path(given[1:]).read_text()
    else:
        text = given
    try:
        return json.loads(text)
    except ValueError as exc:
        raise errors.BadRequest(f"the input is not JSON: {exc}") from None


def predict(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args)
    given = read_input(args.input)
    # A whole ML-Kraken body is sent as it is; anything else is its modelData.
    body = dict(given) if isinstance(given, dict) and "modelData" in given else {"modelData": given}
    meta = dict(body.get("metaData") or {})
    meta.setdefault("modelId", model.id)
    if args.version is not None:
        meta["version"] = args.version
    body["metaData"] = meta
    _print_json(model.predict_raw(body))


def logs(k: Kraken, args: argparse.Namespace) -> None:
    model = _model(k, args)
    lines = (
        model.logs(follow=True, limit=args.limit, seconds=args.seconds) if args.follow else model.logs(limit=args.limit)
    )
    for line in lines:
        print(json.dumps(line) if args.json else f"{line['time']}  {line['message']}", flush=True)


def requests_(k: Kraken, args: argparse.Namespace) -> None:
    frame = _model(k, args).requests(limit=args.limit, status=args.status)
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    _show(args, records, records, ["time", "modelVersion", "status", "latencyMs", "caller", "requestId"])


def metrics(k: Kraken, args: argparse.Namespace) -> None:
    frame = _model(k, args).metrics(period=args.period).reset_index()
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    _show(args, records, records, list(frame.columns))


def clients_create(k: Kraken, args: argparse.Namespace) -> None:
    created = _model(k, args).clients.create(args.client)
    # The one time the token exists in clear: it is the command's output, to stdout only.
    value = {"name": created.name, "token": created.token, "createdAt": created.created_at}
    _show(args, value, [value], ["name", "token", "createdAt"])


def clients_list(k: Kraken, args: argparse.Namespace) -> None:
    found = _model(k, args).clients.list()
    _show(args, found, found, ["name", "createdAt", "lastUsedAt"])


def clients_revoke(k: Kraken, args: argparse.Namespace) -> None:
    _model(k, args).clients.revoke(args.client)
    _show(args, {"revoked": args.client}, [{"revoked": args.client}], ["revoked"])


def login(args: argparse.Namespace) -> None:
    stored = auth.load_session()
    url = args.login_url or args.url or os.environ.get("KRAKEN_URL") or (stored.url if stored else None)
    if not url:
        raise errors.NotSignedIn("give the Kraken's URL: kraken login http://127.0.0.1:8000")
    password = os.environ.get("KRAKEN_PASSWORD")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if password is None:
        if not sys.stdin.isatty():
            raise errors.NotSignedIn("no password: set KRAKEN_PASSWORD, use --password-stdin, or run in a terminal")
        password = getpass.getpass(f"Password for {args.username or os.environ.get('KRAKEN_USERNAME') or url}: ")
    k = connect(url, args.username, password, remember=True)
    value = {"url": k.url, "username": k.username, "session": str(auth.session_path())}
    if args.json:
        _print_json(value)
    else:
        print(f"Signed in to {k.url} as {k.username}; the session is in {auth.session_path()} (0600).")


def logout(args: argparse.Namespace) -> None:
    had = auth.forget_session()
    if args.json:
        _print_json({"signedOut": had})
    else:
        print("Signed out." if had else "There was no stored session.")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    # SUPPRESS: a subcommand's default must not undo a --json given before the subcommand.
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    parser = _Parser(
        prog="kraken",
        description="Kraken from a shell: sign in, deploy, predict, shift traffic, roll back, read what happened.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", default=False, help="machine-readable output")
    parser.add_argument("--url", help="the Kraken to use (default: $KRAKEN_URL, else the stored session's)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, run: Callable[..., int | None], text: str, on: Any = commands) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = on.add_parser(name, help=text, description=text, parents=[common])
        sub.set_defaults(run=run)
        return sub

    def named(name: str, run: Callable[..., int | None], text: str, on: Any = commands) -> argparse.ArgumentParser:
        sub = command(name, run, text, on)
        sub.add_argument("name", help="the model's name (or id)")
        return sub

    def waiting(sub: argparse.ArgumentParser, flag: bool = True) -> None:
        if flag:
            sub.add_argument("--wait", action="store_true", help="wait until it is done")
        sub.add_argument("--timeout", type=float, default=300, help="seconds to wait (300)")

    sub = command("login", login, "sign in and store the session")
    sub.add_argument(
        "login_url", nargs="?", metavar="URL", help="such as http://127.0.0.1:8000 ($KRAKEN_URL, else the last one)"
    )
    sub.add_argument("--username", help="default: $KRAKEN_USERNAME, else the local user the server names")
    sub.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    command("logout", logout, "forget the stored session")

    models = commands.add_parser("models", help="list, get, create or delete models", parents=[common])
    model_commands = models.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    sub = command("list", models_list, "list the models", model_commands)
    sub.add_argument("--search", help="names containing this")
    sub.add_argument("--status", help="only models with this status, such as RUNNING")
    named("get", models_get, "show one model", model_commands)
    sub = named("create", models_create, "register a model (STOPPED, without a file yet)", model_commands)
    sub.add_argument("--format", default="joblib", help="artifact format: joblib, pickle, onnx, python (joblib)")
    sub.add_argument("--image", help="a container image of its own instead of an artifact")
    sub.add_argument("--cpu", type=float, default=0.5, help="vCPU (0.5)")
    sub.add_argument("--memory", type=float, default=1.0, help="GB (1)")
    sub = named("delete", models_delete, "delete a model and everything of it", model_commands)
    sub.add_argument("--force", action="store_true", help="stop it first if it runs")

    sub = command("deploy", deploy, "upload FILE as a new version of --name and serve it (creating the model)")
    sub.add_argument("file", help="the model file, such as model.joblib")
    sub.add_argument("--name", required=True, help="the model's name")
    sub.add_argument("--format", help="artifact format (default: from the suffix)")
    sub.add_argument("--notes", default="", help="what this version is")
    sub.add_argument("--traffic", type=int, default=100, help="the new version's share, 0..100 (100)")
    sub.add_argument("--no-wait", action="store_true", help="return once the switch has started")
    waiting(sub, flag=False)

    named("versions", versions, "list a model's versions")
    sub = named("traffic", traffic, "set the deployment: traffic weights by version, summing to 100")
    sub.add_argument("weights", nargs="+", metavar="VERSION=WEIGHT", help="such as 2=90 3=10")
    sub.add_argument("--message", default="", help="why it changes (kept in the history)")
    waiting(sub)
    sub = named("rollback", rollback, "restore an earlier deployment (default: the last different one)")
    sub.add_argument("--entry", help="the history entry to restore (its entryId)")
    sub.add_argument("--message", default="", help="why (kept in the history)")
    waiting(sub)
    sub = named("history", history, "the deployment history, newest first")
    sub.add_argument("--limit", type=int, default=50)
    waiting(named("start", start, "start a model"))
    waiting(named("stop", stop, "stop a model"))
    sub = named("wait", wait, "wait until a model has a status")
    sub.add_argument("--status", default="RUNNING", help="the status to wait for (RUNNING)")
    waiting(sub, flag=False)
    sub = named("predict", predict, "ask a model: modelData as JSON from the argument, @file or - (stdin)")
    sub.add_argument("input", nargs="?", help="JSON such as '[{\"carat\": 0.3}]', @file.json, or - (the default)")
    sub.add_argument("--version", type=int, help="pin this version")
    sub = named("logs", logs, "what the model's containers printed")
    sub.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    sub.add_argument("--limit", type=int, default=200, help="how many of the latest lines (200)")
    sub.add_argument("--seconds", type=float, help="with --follow: stop after this long")
    sub = named("requests", requests_, "the prediction history, newest first")
    sub.add_argument("--limit", type=int, default=50)
    sub.add_argument("--status", help="a code (404) or a class (5xx)")
    sub = named("metrics", metrics, "the last hour's series per period")
    sub.add_argument("--period", type=int, default=60, help="seconds, a multiple of 60 (60)")

    def tolerance(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--tolerance", type=float, metavar="ABS", help="numbers equal within ABS (default: exact)")
        sub.add_argument("--relative", type=float, metavar="REL", help="and within REL x the larger magnitude")

    def plan_wait(sub: argparse.ArgumentParser, default: str) -> None:
        sub.add_argument("--wait", action="store_true", help="wait until it ends")
        sub.add_argument("--timeout", type=float, help=f"seconds to wait (default: {default})")

    sub = named("replay", replay, "send captured requests to VERSION and compare its answers with the serving ones")
    sub.add_argument("version", type=int, help="the candidate version")
    sub.add_argument("--limit", type=int, default=500, help="at most this many requests, newest first (500)")
    sub.add_argument("--status", default="2xx", help="captured requests of a code or class (2xx), or all")
    sub.add_argument("--rate", type=int, default=20, help="requests a second at most (20)")
    tolerance(sub)
    plan_wait(sub, "the limit at the rate, with room")
    sub = named("replays", replays, "a model's replays, newest first")
    sub.add_argument("--limit", type=int, default=20)

    sub = named(
        "shadow", shadow, "make VERSION a shadow of PERCENT percent of the live requests (0 ends it); alone: results"
    )
    sub.add_argument("version", type=int, nargs="?", help="the shadow version (left out: show each shadow's results)")
    sub.add_argument("percent", type=int, nargs="?", help="1..100, or 0 to end the shadow")
    sub.add_argument("--message", default="", help="why (kept in the history)")
    tolerance(sub)
    plan_wait(sub, "300")

    sub = named("rollout", rollout, "roll VERSION out step by step, rolled back on a breached guardrail; or act on it")
    sub.add_argument("version", type=int, nargs="?", help="the candidate (left out: the current rollout)")
    acts = sub.add_mutually_exclusive_group()
    for verb, text in (
        ("show", "show the current rollout and its decisions (the default)"),
        ("pause", "hold the weights; nothing is judged"),
        ("resume", "go on; the step bakes anew"),
        ("promote", "give the candidate all the traffic now"),
        ("abort", "give the baseline all the traffic back"),
    ):
        acts.add_argument(f"--{verb}", dest="act", action="store_const", const=verb, help=text)
    sub.add_argument("--steps", default="5,25,50,100", help="the candidate's weights, increasing to 100 (5,25,50,100)")
    sub.add_argument("--bake", type=int, default=300, help="seconds each step must hold its guardrails (300)")
    sub.add_argument("--message", default="", help="why (kept in the history)")
    for name in GUARDRAILS:
        kind = int if name == "min_requests" else float
        sub.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help="a guardrail (server default)")
    plan_wait(sub, "each step left bakes, with room")

    clients = commands.add_parser("clients", help="client tokens of a private model (admin)", parents=[common])
    client_commands = clients.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    for name, run, text in (
        ("create", clients_create, "create a client token (shown once)"),
        ("revoke", clients_revoke, "revoke a client token"),
    ):
        sub = named(name, run, text, client_commands)
        sub.add_argument("client", help="the client's name, such as billing")
    named("list", clients_list, "list a model's clients", client_commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    try:
        if args.run in (login, logout):
            args.run(args)
        else:
            code = args.run(connect(args.url), args)
            if code:
                return int(code)
    except errors.KrakenError as error:
        print(f"kraken: {error}", file=sys.stderr)
        return exit_code(error)
    except (ValueError, OSError) as error:
        print(f"kraken: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
