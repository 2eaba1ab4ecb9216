"""Access to the lists shipped inside the package (``pilotdid/registry/lists``).

The lists are copies of the project's checked registry (``lists/SOURCES.md`` says what each holds and
how far each row is verified) plus two third-party files the registry compares against:
``gp_lowcarbon_pilot_list.xlsx`` (the treatment list shipped with a published low-carbon DID sample,
biechouwo-coder/G-P) and ``crh_final_data_hsr.csv`` (high-speed-rail opening years,
gordonjgz/spatial-differentiated-effects-CRH). Reading never writes anything.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from io import BytesIO, StringIO

import pandas as pd

from pilotdid.errors import PilotdidInputError

LIST_PACKAGE = "pilotdid.registry"
LIST_DIR = "lists"


def list_resource(name: str):
    """The importlib resource of a shipped list file (raises a clear error when it is missing)."""
    ref = resources.files(LIST_PACKAGE).joinpath(LIST_DIR, name)
    if not ref.is_file():
        raise PilotdidInputError(
            f"the shipped list {name} is missing from the installed package",
            where=f"pilotdid/registry/{LIST_DIR}", fix="reinstall pilotdid (the lists are package data)",
        )
    return ref


def read_list_csv(name: str) -> pd.DataFrame:
    """A shipped CSV as strings (no type guessing: statuses, codes and dates stay exactly as written)."""
    text = list_resource(name).read_text(encoding="utf-8-sig")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, na_values=[""])


def read_list_excel(name: str) -> pd.DataFrame:
    """A shipped xlsx (first sheet)."""
    data = list_resource(name).read_bytes()
    return pd.read_excel(BytesIO(data), sheet_name=0)


def list_sha256(name: str) -> str:
    """sha256 of a shipped list file, for manifests."""
    return hashlib.sha256(list_resource(name).read_bytes()).hexdigest()


def sources_text() -> str:
    """The registry's SOURCES.md (what each list holds, the verification statuses)."""
    return list_resource("SOURCES.md").read_text(encoding="utf-8")
