"""`cliplens export-onnx MODEL [--out DIR]`: ONNX encoders for the embedding onnx backend.

Runs in-process (torch, no service): builds MODEL from the local registry or an open_clip
`ARCH/PRETRAINED` name, writes image, text and surgery dense encoders, and checks each against
torch on random inputs (cosine per embedding).
"""

from __future__ import annotations

from pathlib import Path

from cliplens.client.cli.common import CommandError, Progress, emit


def register(sub) -> None:
    """Add the `export-onnx` command."""
    p = sub.add_parser("export-onnx", help="export a model's encoders to ONNX (in-process)")
    p.add_argument("model", help="registry name (e.g. toyworld) or open_clip ARCH/PRETRAINED")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the embedding service's onnx_dir)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the parity check against torch")
    p.set_defaults(func=_export)


def _export(args) -> None:
    from cliplens.core.config import load_config
    from cliplens.core.errors import CliplensError
    from cliplens.embedding.config import EmbeddingConfig
    from cliplens.embedding.loading import build
    from cliplens.embedding.onnx_export import export, verify
    from cliplens.embedding.registry import Registry

    config = load_config(EmbeddingConfig, "embedding")
    out = args.out or Path(config.onnx_dir)
    progress = Progress(f"export-onnx {args.model}")
    try:
        entry = Registry(config.registry_dirs, model_dir=config.model_dir).resolve(args.model)
        progress.update(0, 3, "loading")
        built = build(entry)
        progress.update(1, 3, "exporting")
        folder = export(entry, out, built=built)
        progress.update(2, 3, "verifying")
        parity = {} if args.no_verify else verify(folder, built.model)
        progress.update(3, 3, "done")
    except CliplensError as e:
        raise CommandError(str(e)) from None
    finally:
        progress.close()
    files = sorted(p.name for p in folder.iterdir())
    lines = [f"exported {entry.name} ({built.fingerprint}) to {folder}",
             *(f"  {f}" for f in files)]
    if parity:
        lines.append("parity with torch (min cosine per embedding): " + ", ".join(
            f"{k} {v:.6f}" for k, v in parity.items()))
    emit(args, {"model": entry.name, "folder": str(folder), "files": files,
                "fingerprint": built.fingerprint, "min_cosine": parity}, "\n".join(lines))
