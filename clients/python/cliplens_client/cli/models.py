"""`cliplens models [list|show NAME]`: the models a deployment has loaded, or the local registry."""

from __future__ import annotations

from cliplens.client.cli.common import client, emit


def register(sub) -> None:
    """Add the `models` command group."""
    p = sub.add_parser("models", help="models loaded by the embedding service")
    actions = p.add_subparsers(dest="models_command", metavar="ACTION")
    ls = actions.add_parser("list", help="loaded models (default action)")
    ls.add_argument("--local", action="store_true",
                    help="list the local registry entries instead (no service needed)")
    ls.set_defaults(func=_list)
    show = actions.add_parser("show", help="one loaded model in full")
    show.add_argument("name", nargs="?", default="", help="model name (default: the default)")
    show.set_defaults(func=_show)
    p.set_defaults(func=_list, local=False)


def _info_dict(info) -> dict:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(info, preserving_proto_field_name=True,
                         always_print_fields_with_no_presence=True)


def _list(args) -> None:
    if args.local:
        return _list_local(args)
    from cliplens.v1 import embedding_pb2

    reply = client(args).embedding.ListModels(embedding_pb2.ListModelsRequest())
    rows = [("NAME", "ARCHITECTURE", "DIM", "INPUT", "GRID", "SURGERY", "BACKEND", "DEVICE",
             "FINGERPRINT")]
    for m in reply.models:
        mark = "*" if m.ref.name == reply.default_model else ""
        surgery = str(m.surgery_depth) if m.surgery_depth else "-"
        rows.append((m.ref.name + mark + (" (random)" if m.ref.random_weights else ""),
                     m.architecture, str(m.embed_dim), f"{m.image_height}x{m.image_width}",
                     f"{m.grid_height}x{m.grid_width}", surgery,
                     f"{m.ref.backend}/{m.ref.precision}", m.ref.device,
                     m.ref.fingerprint[:19]))
    emit(args, {"default_model": reply.default_model,
                "models": [_info_dict(m) for m in reply.models]},
         _table(rows) + "\n(* default model)")


def _show(args) -> None:
    from cliplens.v1 import embedding_pb2

    info = client(args).embedding.GetModel(embedding_pb2.GetModelRequest(model=args.name)).model
    data = _info_dict(info)
    lines = [f"{info.ref.name}", *(f"  {k:<28} {v}" for k, v in data.items() if k != "ref"),
             *(f"  ref.{k:<24} {v}" for k, v in data["ref"].items())]
    emit(args, data, "\n".join(lines))


def _list_local(args) -> None:
    from cliplens.core.config import load_config
    from cliplens.embedding.config import EmbeddingConfig
    from cliplens.embedding.registry import Registry

    config = load_config(EmbeddingConfig, "embedding")
    registry = Registry(config.registry_dirs, model_dir=config.model_dir)
    entries = [registry.entries[n] for n in registry.names()]
    data = [{"name": e.name, "architecture": e.arch_name, "weights": str(e.weights or "random"),
             "weights_present": bool(e.random_weights or (e.weights and e.weights.is_file())),
             "surgery_depth": e.surgery_depth, "source": e.source} for e in entries]
    rows = [("NAME", "ARCHITECTURE", "WEIGHTS", "PRESENT")]
    rows += [(d["name"], d["architecture"], d["weights"], "yes" if d["weights_present"] else
              "no") for d in data]
    emit(args, {"models": data, "model_dir": config.model_dir},
         _table(rows) + f"\n(also any open_clip ARCH/PRETRAINED with weights under "
                        f"{config.model_dir}, ARCH/random, or hf-hub:ORG/NAME in the local "
                        f"Hugging Face cache)")


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)
