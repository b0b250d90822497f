"""`cliplens up | down | status | demo`: the local deployment on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

from cliplens.client.cli.common import CommandError, emit


def register(sub) -> None:
    """Add the local-deployment commands."""
    p = sub.add_parser("up", help="start the four services in the background; returns once "
                                  "all are SERVING")
    p.add_argument("--base-port", type=int, default=None,
                   help="gateway port; embedding, lexicon, explanation take the next three "
                        "(default 50150)")
    p.add_argument("--metrics-base", type=int, default=None, help="default 9150")
    p.add_argument("--wait", type=float, default=300.0, help="seconds to wait for SERVING")
    p.set_defaults(func=_up)
    p = sub.add_parser("down", help="stop the local services (they drain in-flight calls)")
    p.set_defaults(func=_down)
    p = sub.add_parser("status", help="pid and health of each local service")
    p.set_defaults(func=_status)
    p = sub.add_parser("demo", help="start the services, explain a bundled image, write the "
                                    "map, stop")
    p.add_argument("--out", type=Path, default=Path("cliplens-demo"),
                   help="directory for the maps (default ./cliplens-demo)")
    p.add_argument("--concept", default="vehicle.n.01", help="WordNet concept to explain")
    p.set_defaults(func=_demo)


def _layout(args):
    from cliplens.client.local import DEFAULT_BASE_PORT, DEFAULT_METRICS_BASE, Layout

    return Layout(args.base_port or DEFAULT_BASE_PORT,
                  args.metrics_base or DEFAULT_METRICS_BASE)


def _up(args) -> None:
    from cliplens.client import local

    try:
        layout = local.up(_layout(args), timeout=args.wait,
                          progress=lambda s: print(f"  {s} SERVING", file=sys.stderr))
    except local.LocalError as e:
        raise CommandError(str(e)) from None
    emit(args, {"gateway": layout.address("gateway"), "run_dir": str(local.run_dir())},
         f"cliplens is up: gateway at {layout.address('gateway')} "
         f"(logs in {local.run_dir()})")


def _down(args) -> None:
    from cliplens.client import local

    stopped = local.down()
    emit(args, {"stopped": stopped},
         f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


def _status(args) -> int:
    from cliplens.client import local

    info = local.status()
    lines = [f"{name:<12} {v['health']:<12} pid {v['pid'] or '-':<8} {v['address']}"
             for name, v in info.items()]
    emit(args, info, "\n".join(lines))
    return 0 if all(v["health"] == "SERVING" for v in info.values()) else 1


def _demo(args) -> None:
    from cliplens.client import Client, local
    from cliplens.toyworld.examples import load_examples

    already = all(v["health"] == "SERVING" for v in local.status().values())
    print("starting the local services (toyworld model)..." if not already
          else "using the running services", file=sys.stderr)
    try:
        layout = local.up(timeout=300,
                          progress=lambda s: print(f"  {s} SERVING", file=sys.stderr))
    except local.LocalError as e:
        raise CommandError(str(e)) from None
    try:
        example = load_examples()[0]
        args.out.mkdir(parents=True, exist_ok=True)
        with Client(layout.address("gateway"), timeout=120) as client:
            result = client.surgery(example.image_path, [args.concept], overlay=True)
        path = args.out / f"{example.name}_surgery_{args.concept}.png"
        path.write_bytes(result.maps[0][0].overlay_png)
        grid = result.maps[0][0].grid
        emit(args, {"map": str(path.resolve()), "model": result.model.name,
                    "fingerprint": result.model.fingerprint, "label": result.labels[0]},
             f"CLIP Surgery map of {args.concept} ({result.labels[0]!r}) on {example.image_path}"
             f"\n  model {result.model.name} ({result.model.fingerprint[:19]}...), "
             f"grid {grid.shape[0]}x{grid.shape[1]}\n  wrote {path.resolve()}")
    finally:
        if not already:
            local.down()
            print("stopped the local services", file=sys.stderr)
