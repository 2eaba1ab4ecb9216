"""Assign a registry policy's treatment to a panel: first treated year per unit, with a full account.

:func:`assign_treatment` maps every registry entry of the chosen batches to prefecture city ids
(through :mod:`pilotdid.data.cities`), applies the treatment-year rule and the county rule
(:mod:`pilotdid.registry.rules`), and matches the panel's units (city ids or names). Nothing is
dropped or recoded silently: the result lists treated cities per batch, entries not in the panel,
panel units that a later (or unselected) batch treats, dropped units, fuzzy or unmatched names, the
verification statuses used, and notes naming every convention.

:func:`policy_dummy` is the 0/1 column of a concurrent policy (Broadband China) for use as a control.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.registry._cities import city_id_key, city_table, get_resolver, is_width_variant, looks_like_city_ids
from pilotdid.registry.policies import STATUS_FAMILIES, Policy, load_policy, parse_batches
from pilotdid.registry.rules import (
    COUNTY_RULES,
    DEFAULT_COUNTY_RULE,
    DEFAULT_CUTOFF_MONTH,
    DEFAULT_RULE,
    check_county_rule,
    check_rule,
    describe_rule,
    treatment_years,
)

_TARGET_KINDS = ("prefecture", "cluster", "county")


@dataclass
class TreatmentAssignment:
    """What :func:`assign_treatment` found; every field is meant to be shown to the user.

    first_treat:
        Series indexed by the panel's unit values (every unit kept in the sample): the first treated
        year, or 0 = never treated within the panel years (see ``treated_after_window``: 0 is not
        "never treated" for ever).
    treated_by_batch:
        batch, year(s) under the rule, n_registry (entries), n_prefecture_units, n_in_panel,
        n_always_treated (treated in or before the first panel year), cities (names found in the panel).
    not_found:
        Entries of the chosen batches that reach no unit of the panel, with the reason.
    treated_after_window:
        Panel units coded 0 that the policy treats later: by a batch outside the selection or in a
        year after the last panel year. ``in_window`` marks those treated inside the panel years by an
        unselected batch (they sit in the control group although treated).
    dropped_units:
        Unit values removed from the sample by ``county_rule="drop"``.
    notes:
        Sentences naming the rule, the county rule and its mappings, the policy's caveats and counts.
    verification:
        Entries used per verification-status family.
    first_batch:
        For treated units: the batch whose entry gives the first treated year (lowest batch on ties).
    parent_only_units:
        Treated units whose first treatment comes only through a sub-prefecture zone (county rule parent).
    """

    policy: str
    unit: str
    time: str
    batches: list[int]
    rule: str
    cutoff_month: int
    lag: int
    county_rule: str
    first_treat: pd.Series
    treated_by_batch: pd.DataFrame
    not_found: pd.DataFrame
    treated_after_window: pd.DataFrame
    dropped_units: list
    notes: list[str]
    verification: pd.DataFrame
    caveats: list[str] = field(default_factory=list)
    unit_city_ids: pd.Series | None = None
    county_mappings: pd.DataFrame | None = None
    unmatched: pd.DataFrame | None = None
    entries_used: pd.DataFrame | None = None
    first_batch: pd.Series | None = None
    parent_only_units: list = field(default_factory=list)

    @property
    def treated_units(self) -> list:
        return sorted(self.first_treat.index[self.first_treat > 0].tolist())

    def apply(self, panel: pd.DataFrame, first_treat_col: str = "first_treat", treat_col: str = "did") -> pd.DataFrame:
        """The panel without dropped units, plus ``first_treat_col`` (int) and ``treat_col`` (0/1 float)."""
        out = panel.loc[~panel[self.unit].isin(self.dropped_units)].copy()
        out[first_treat_col] = out[self.unit].map(self.first_treat).fillna(0).astype(int)
        out[treat_col] = ((out[first_treat_col] > 0) & (out[self.time] >= out[first_treat_col])).astype(float)
        return out


# --------------------------------------------------------------------------------------------------


def _panel_years(panel: pd.DataFrame, time: str) -> pd.Series:
    values = pd.to_numeric(panel[time], errors="coerce")
    bad = values.isna() | (values != np.round(values))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PilotdidInputError(
            f"time column '{time}' must hold whole years, found {panel[time].iloc[row]!r} at data row {row + 1}",
            where=f"panel column {time}", fix="registry policies assign treatment by calendar year: use a year column",
        )
    return values.astype(int)


def _resolve_panel_units(panel: pd.DataFrame, unit: str, years: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """unit value -> city_id (Series), and a table of unit values that resolve to nothing."""
    if unit not in panel.columns:
        raise PilotdidInputError(f"panel has no column '{unit}'", where="unit", fix="name the panel's city column")
    if panel[unit].isna().any():
        row = int(np.flatnonzero(panel[unit].isna().to_numpy())[0])
        raise PilotdidInputError(f"unit column '{unit}' is empty at data row {row + 1}", where=f"panel column {unit}", fix="fill the city")
    first_year = years.groupby(panel[unit]).min()
    values = pd.Series(first_year.index, index=first_year.index)
    ids: dict = {}
    methods: dict = {}
    unmatched = []
    known = set(city_table()["city_id"])
    only_ids = looks_like_city_ids(values)  # then an unknown id is not looked up as a name
    resolver = None if only_ids else get_resolver()
    for v in values:
        key = city_id_key(v)
        if key in known:  # a panel may mix ids and names
            ids[v] = key
            methods[v] = "id"
            continue
        if only_ids:
            unmatched.append((v, "not a known city id"))
            continue
        match = resolver.resolve(v)
        if match is None:
            match = resolver.resolve(v, int(first_year[v]))
        if match is None:
            unmatched.append((v, resolver.why_unmatched(v)))
            continue
        ids[v] = match.city_id
        methods[v] = match.method if match.method != "fuzzy" else f"fuzzy ({match.score:.2f})"
    mapped = pd.Series(ids, dtype=object, name="city_id")
    mapped.index.name = unit
    dup = mapped[mapped.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        names = dup[dup == first].index.tolist()
        raise PilotdidInputError(
            f"panel units {names} are the same city ({first})", where=f"panel column {unit}",
            fix="merge the rows of one city under one name, or drop the duplicate",
        )
    table = pd.DataFrame(unmatched, columns=["unit", "reason"])
    mapped.attrs["methods"] = methods
    return mapped, table


def _targets(entries: pd.DataFrame) -> pd.DataFrame:
    """One row per (entry, prefecture it reaches) with the resolved city id (None when unresolved)."""
    resolver = get_resolver()
    rows = []
    for idx, entry in entries.iterrows():
        if entry["unit_kind"] not in _TARGET_KINDS:
            continue
        for name in str(entry["prefectures"]).split(";"):
            name = name.strip()
            if not name:
                continue
            match = resolver.resolve(name)
            rows.append(
                {
                    "entry": idx,
                    "target_name": name,
                    "city_id": None if match is None else match.city_id,
                    "match_method": None if match is None else match.method,
                    "match_score": None if match is None else match.score,
                    "why_unmatched": resolver.why_unmatched(name) if match is None else None,
                    "role": "parent" if entry["unit_kind"] == "county" else "self",
                }
            )
    return pd.DataFrame(
        rows, columns=["entry", "target_name", "city_id", "match_method", "match_score", "why_unmatched", "role"]
    )


def _join(names) -> str:
    return "、".join(str(n) for n in names)


def assign_treatment(
    panel: pd.DataFrame,
    unit: str,
    time: str,
    policy: str | Policy,
    batches=None,
    rule: str = DEFAULT_RULE,
    cutoff_month: int = DEFAULT_CUTOFF_MONTH,
    lag: int = 0,
    county_rule: str = DEFAULT_COUNTY_RULE,
    allow_unverified: bool = False,
    allow_unmatched: bool = False,
) -> TreatmentAssignment:
    """First treated year of every panel unit under a registry policy, with a full account.

    Parameters
    ----------
    panel, unit, time:
        A long panel; ``unit`` holds city ids (``CNUR-...``), city names in any spelling the resolver
        knows, or 6-digit codes; ``time`` holds calendar years.
    policy:
        A registry name (``"cbec"``, ``"lowcarbon:province_expanded"``, a ``.csv`` path) or a :class:`Policy`.
    batches:
        ``None`` (all), ``"1-5"``, ``[1, 2, 3]`` ...
    rule, cutoff_month, lag:
        Treatment-year rule (:mod:`pilotdid.registry.rules`): ``approval_year`` (default),
        ``next_year_if_after`` (months after ``cutoff_month`` count from the next year), ``lag``.
    county_rule:
        Sub-prefecture zones: ``parent`` (default), ``drop`` or ``ignore``.
    allow_unverified:
        Use entries whose verification status is ``unverified`` (refused by default).
    allow_unmatched:
        Go on when a registry entry or a panel unit resolves to no city id (an error by default);
        they are then listed in ``not_found`` / ``unmatched`` and the notes.
    """
    check_rule(rule, cutoff_month, lag)
    check_county_rule(county_rule)
    years = _panel_years(panel, time)
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    chosen = parse_batches(batches, pol.batch_numbers, where=f"batches of policy {pol.name}")
    entries = pol.entries.copy()
    selected_mask = entries["batch"].isin(chosen)

    # -- verification ------------------------------------------------------------------------------
    unverified = entries.loc[selected_mask & (entries["status_family"] == "unverified")]
    if len(unverified) and not allow_unverified:
        raise PilotdidInputError(
            f"{len(unverified)} entries of policy {pol.name} batches {chosen} are unverified "
            f"({_join(unverified['entity_name'].head(8))}{' ...' if len(unverified) > 8 else ''}): no public source names them",
            where=f"policy {pol.name}",
            fix="verify them and update the list, choose other batches (a study's [treatment] batches, the command "
                "line's --batches), or accept them (allow_unverified = true in a study, --allow-unverified on the "
                "command line; reported)",
        )

    # -- treatment years ---------------------------------------------------------------------------
    fallback_years = False
    try:
        entries["treat_year"] = treatment_years(entries, rule, cutoff_month, lag)
    except PilotdidInputError:
        # the chosen batches must satisfy the rule; unselected ones only feed the "treated later" report
        entries.loc[selected_mask, "treat_year"] = treatment_years(entries.loc[selected_mask], rule, cutoff_month, lag)
        entries.loc[~selected_mask, "treat_year"] = entries.loc[~selected_mask, "approval_year"] + lag
        entries["treat_year"] = entries["treat_year"].astype(int)
        fallback_years = True

    # -- registry entries -> city ids ----------------------------------------------------------------
    targets = _targets(entries)
    targets["selected"] = targets["entry"].map(selected_mask)
    unresolved = targets.loc[targets["city_id"].isna() & targets["selected"]]
    if len(unresolved) and not allow_unmatched:
        first = unresolved.iloc[0]
        entry = entries.loc[first["entry"]]
        raise PilotdidInputError(
            f"{len(unresolved)} registry name(s) of policy {pol.name} resolve to no city id, e.g. "
            f"{first['target_name']!r} (entry {entry['entity_name']}, batch {entry['batch']}: {first['why_unmatched']})",
            where=f"{entry['source_file']}, line {entry['source_line']}",
            fix="fix the name in the list, or set allow_unmatched = true to go on without them (they are listed)",
        )

    # -- panel units -> city ids ---------------------------------------------------------------------
    first_year, last_year = int(years.min()), int(years.max())
    unit_ids, unmatched_units = _resolve_panel_units(panel, unit, years)
    if len(unmatched_units) and not allow_unmatched:
        first = unmatched_units.iloc[0]
        raise PilotdidInputError(
            f"{len(unmatched_units)} panel unit(s) resolve to no city id, e.g. {first['unit']!r} ({first['reason']}); "
            "an unresolved unit could hide a treated city",
            where=f"panel column {unit}",
            fix="use city ids or standard names, or set allow_unmatched = true (they are then coded untreated and listed)",
        )
    id_to_unit = {cid: u for u, cid in unit_ids.items()}
    city_names = city_table().set_index("city_id")["city_name"].to_dict()

    # -- county rule ------------------------------------------------------------------------------
    county_rows = []
    drop_ids: set[str] = set()
    for t in targets.itertuples():
        if t.role != "parent":
            continue
        entry = entries.loc[t.entry]
        action = {"parent": "parent treated", "drop": "parent dropped", "ignore": "ignored"}[county_rule]
        if not t.selected:
            action = "outside the chosen batches"
        elif county_rule == "drop" and not pd.isna(t.city_id):
            drop_ids.add(t.city_id)
        county_rows.append(
            {
                "batch": int(entry["batch"]),
                "zone": entry["entity_name"],
                "parent": t.target_name,
                "city_id": None if pd.isna(t.city_id) else t.city_id,
                "treat_year": int(entry["treat_year"]),
                "in_panel": t.city_id in id_to_unit,
                "action": action,
            }
        )
    county_mappings = pd.DataFrame(
        county_rows, columns=["batch", "zone", "parent", "city_id", "treat_year", "in_panel", "action"]
    )
    usable = targets["city_id"].notna() & ~((targets["role"] == "parent") & (county_rule != "parent"))
    coded = targets.loc[usable].copy()
    coded["treat_year"] = coded["entry"].map(entries["treat_year"])
    coded["batch"] = coded["entry"].map(entries["batch"])

    sel = coded.loc[coded["selected"]]
    # the entry that first treats each city: earliest year, then lowest batch
    first_rows = sel.sort_values(["treat_year", "batch", "entry"]).drop_duplicates("city_id").set_index("city_id")
    first_by_id = first_rows["treat_year"]
    at_first = sel.loc[sel["treat_year"].to_numpy() == sel["city_id"].map(first_by_id).to_numpy()]
    parent_only_ids = set(at_first.groupby("city_id")["role"].agg(lambda r: bool((r == "parent").all())).pipe(lambda x: x[x].index))

    # -- first_treat per kept unit -----------------------------------------------------------------
    dropped_units = sorted((id_to_unit[c] for c in drop_ids if c in id_to_unit), key=str)
    dropped_set = set(dropped_units)
    kept_units = [u for u in unit_ids.index.tolist() + unmatched_units["unit"].tolist() if u not in dropped_set]
    treat_of_unit, first_batch_rows, parent_only, after_rows = {}, {}, [], []
    for u in kept_units:
        cid = unit_ids.get(u)
        if cid is None or cid not in first_by_id.index:
            continue
        row = first_rows.loc[cid]
        year = int(row["treat_year"])
        if year <= last_year:
            treat_of_unit[u] = year
            first_batch_rows[u] = int(row["batch"])
            if cid in parent_only_ids:
                parent_only.append(u)
        else:
            entry = entries.loc[row["entry"]]
            after_rows.append((u, cid, city_names.get(cid), int(row["batch"]), year, False, entry["entity_name"],
                               entry["verification_status"], "chosen batch, but treated after the last panel year"))
    first_treat = pd.Series(
        [treat_of_unit.get(u, 0) for u in kept_units], index=pd.Index(kept_units, name=unit), dtype=int, name="first_treat"
    )
    first_batch = pd.Series(first_batch_rows, dtype=int, name="first_batch")
    first_batch.index.name = unit
    # treated by batches outside the selection, while coded 0 here
    others = coded.loc[~coded["selected"]]
    for cid, group in others.groupby("city_id"):
        u = id_to_unit.get(cid)
        if u is None or u in dropped_set or treat_of_unit.get(u, 0) > 0:
            continue
        row = group.sort_values(["treat_year", "batch"]).iloc[0]
        year = int(row["treat_year"])
        in_window = year <= last_year
        reason = (
            "treated INSIDE the panel years by a batch outside the selection: coded as control"
            if in_window else "treated by a later batch, after the last panel year"
        )
        entry = entries.loc[row["entry"]]
        after_rows.append((u, cid, city_names.get(cid), int(row["batch"]), year, in_window, entry["entity_name"],
                           entry["verification_status"], reason))
    treated_after = pd.DataFrame(
        after_rows,
        columns=["unit", "city_id", "city_name", "batch", "treat_year", "in_window", "registry_entry", "verification_status", "reason"],
    ).drop_duplicates(subset=["unit"]).sort_values(["treat_year", "batch", "city_id"], ignore_index=True)

    # -- per-batch table ---------------------------------------------------------------------------
    batch_rows = []
    sel_entries = entries.loc[selected_mask]
    for b in chosen:
        eb = sel_entries.loc[sel_entries["batch"] == b]
        tb = sel.loc[sel["batch"] == b]
        ids_b = sorted(set(tb["city_id"]))
        in_panel = [c for c in ids_b if c in id_to_unit and id_to_unit[c] not in dropped_set]
        # a city counts for the batch whose entry first treats it
        firsts = [c for c in in_panel if int(first_rows.at[c, "batch"]) == b]
        years_b = sorted(set(eb["treat_year"].astype(int)))
        batch_rows.append(
            {
                "batch": b,
                "treat_year": years_b[0] if len(years_b) == 1 else f"{years_b[0]}-{years_b[-1]}",
                "n_registry": int(len(eb)),
                "n_prefecture_units": len(ids_b),
                "n_in_panel": len(in_panel),
                "n_first_treated_here": len(firsts),
                "n_always_treated": sum(1 for c in firsts if 0 < first_treat[id_to_unit[c]] <= first_year),
                "cities": _join(city_names.get(c, c) for c in in_panel),
            }
        )
    treated_by_batch = pd.DataFrame(batch_rows)

    # -- entries that reach no panel unit ------------------------------------------------------------
    nf_rows = []
    for idx, entry in sel_entries.iterrows():
        kind = entry["unit_kind"]
        base = {"batch": int(entry["batch"]), "entity_name": entry["entity_name"], "unit_kind": kind,
                "verification_status": entry["verification_status"]}
        if kind not in _TARGET_KINDS:
            nf_rows.append({**base, "city_id": None, "city_name": None,
                            "reason": "documented non-prefecture entry (province pilot)" if kind == "province"
                            else "documented non-prefecture entry (no prefecture-level parent)"})
            continue
        for t in targets.loc[targets["entry"] == idx].itertuples():
            if pd.isna(t.city_id):
                nf_rows.append({**base, "city_id": None, "city_name": t.target_name, "reason": f"name unmatched: {t.why_unmatched}"})
            elif kind == "county" and county_rule == "ignore":
                nf_rows.append({**base, "city_id": t.city_id, "city_name": city_names.get(t.city_id),
                                "reason": "sub-prefecture zone ignored (county_rule = ignore)"})
            elif t.city_id not in id_to_unit:
                nf_rows.append({**base, "city_id": t.city_id, "city_name": city_names.get(t.city_id),
                                "reason": "city not in the panel" + (" (parent of the zone)" if kind == "county" else "")})
            elif id_to_unit[t.city_id] in dropped_set:
                nf_rows.append({**base, "city_id": t.city_id, "city_name": city_names.get(t.city_id),
                                "reason": "parent dropped from the sample (county_rule = drop)"})
    not_found = pd.DataFrame(
        nf_rows, columns=["batch", "entity_name", "unit_kind", "city_id", "city_name", "verification_status", "reason"]
    )

    # -- verification counts -----------------------------------------------------------------------
    fam = sel_entries["status_family"].value_counts()
    verification = pd.DataFrame(
        {"status": list(STATUS_FAMILIES), "n_entries": [int(fam.get(s, 0)) for s in STATUS_FAMILIES]}
    )

    # -- notes -------------------------------------------------------------------------------------
    n_treated = int((first_treat > 0).sum())
    always = int(((first_treat > 0) & (first_treat <= first_year)).sum())
    notes = [
        f"Treatment from registry policy '{pol.name}' ({pol.title}), batches {_batch_text(chosen)}; {describe_rule(rule, cutoff_month, lag)}.",
        f"County rule '{county_rule}'" + (" (default)" if county_rule == DEFAULT_COUNTY_RULE else "")
        + f": {COUNTY_RULES[county_rule]}.",
    ]
    applied = county_mappings.loc[county_mappings["action"] != "outside the chosen batches"]
    if len(applied):
        notes.append(
            "Sub-prefecture zones in the chosen batches: "
            + "; ".join(f"{r.zone} (batch {r.batch}, {r.treat_year}) -> {r.parent}: {r.action}" for r in applied.itertuples())
            + "."
        )
    notes.extend(pol.caveats)
    notes.append(
        f"{len(sel_entries)} registry entries -> {sel['city_id'].nunique()} prefecture units; "
        f"{n_treated} of {len(first_treat)} panel units treated within {first_year}-{last_year}; "
        f"{len(not_found)} entries reach no panel unit (listed)."
    )
    if always:
        notes.append(
            f"{always} unit(s) are treated in or before the first panel year {first_year}: always treated in the window."
        )
    if len(treated_after):
        inside = int(treated_after["in_window"].sum())
        notes.append(
            f"{len(treated_after)} panel unit(s) coded 0 are treated later or by other batches "
            f"({_join(treated_after['city_name'].fillna(treated_after['unit'].astype(str)).head(10))}"
            f"{' ...' if len(treated_after) > 10 else ''}): 0 means not treated within the panel window, "
            "not never treated for ever."
            + (f" {inside} of them are treated INSIDE the panel years by unselected batches and sit in the control group."
               if inside else "")
        )
    if len(dropped_units):
        notes.append(f"{len(dropped_units)} unit(s) dropped by county_rule = drop: {_join(dropped_units)}.")
    n_unv = int(fam.get("unverified", 0))
    notes.append(
        "Verification of the entries used: "
        + ", ".join(f"{s} {int(fam.get(s, 0))}" for s in STATUS_FAMILIES)
        + (" (unverified entries used because allow_unverified = true)." if n_unv else ".")
    )
    fuzzy = targets.loc[targets["selected"] & (targets["match_method"] == "fuzzy")]
    if len(fuzzy):
        notes.append(
            f"{len(fuzzy)} registry name(s) matched fuzzily: "
            + "; ".join(f"{r.target_name} -> {city_names.get(r.city_id, r.city_id)} ({r.match_score:.2f})" for r in fuzzy.itertuples())
            + "."
        )
    if len(unresolved):
        notes.append(
            f"{len(unresolved)} registry name(s) resolve to no city id and are left out (allow_unmatched = true): "
            + _join(unresolved["target_name"]) + "."
        )
    if len(unmatched_units):
        notes.append(
            f"{len(unmatched_units)} panel unit(s) resolve to no city id and are coded untreated (allow_unmatched = true): "
            + _join(unmatched_units["unit"].head(10)) + "."
        )
    methods = pd.Series(unit_ids.attrs.get("methods", {}))
    fuzzy_units = methods[methods.astype(str).str.startswith("fuzzy")] if len(methods) else methods
    if len(fuzzy_units):
        notes.append(
            f"{len(fuzzy_units)} panel unit name(s) matched fuzzily: "
            + "; ".join(f"{u} -> {city_names.get(unit_ids[u])}" for u in fuzzy_units.index[:10]) + "."
        )
    width_variants = [u for u in unit_ids.index if is_width_variant(u)]
    if width_variants:
        # matched, not renamed: the panel keeps its ids as written; said so the match can be checked
        notes.append(
            f"{len(width_variants)} panel unit(s) written with full-width characters matched the registry after "
            "Unicode NFKC normalisation (kept as written): "
            + "; ".join(f"{u} -> {city_names.get(unit_ids[u])}" for u in width_variants[:10]) + "."
        )
    if fallback_years:
        notes.append(
            "Entries outside the chosen batches lack approval months: their years (for the 'treated later' list) "
            "use approval_year + lag."
        )

    used = entries.loc[selected_mask].copy()
    return TreatmentAssignment(
        policy=pol.name, unit=unit, time=time, batches=chosen, rule=rule, cutoff_month=cutoff_month, lag=lag,
        county_rule=county_rule, first_treat=first_treat, treated_by_batch=treated_by_batch, not_found=not_found,
        treated_after_window=treated_after, dropped_units=dropped_units, notes=notes, verification=verification,
        caveats=list(pol.caveats), unit_city_ids=unit_ids, county_mappings=county_mappings,
        unmatched=unmatched_units, entries_used=used, first_batch=first_batch, parent_only_units=parent_only,
    )


def _batch_text(chosen: list[int]) -> str:
    if len(chosen) > 1 and chosen == list(range(chosen[0], chosen[-1] + 1)):
        return f"{chosen[0]}-{chosen[-1]}"
    return ", ".join(str(b) for b in chosen)


def policy_dummy(panel: pd.DataFrame, unit: str, time: str, policy: str | Policy, **options) -> pd.Series:
    """0/1 indicator of a (concurrent) policy, aligned to the panel's rows (for use as a control).

    Takes the options of :func:`assign_treatment` except ``county_rule="drop"`` (a control cannot drop
    units). The Series' ``attrs["notes"]`` carry the assignment notes, including the policy's caveats
    (e.g. Broadband China's incomplete 2015 batch), which any output using the dummy must show.
    """
    if options.get("county_rule") == "drop":
        raise PilotdidInputError(
            "county_rule = drop cannot be used for a policy dummy (it would remove units from the sample)",
            where="county_rule", fix="use parent or ignore",
        )
    assignment = assign_treatment(panel, unit, time, policy, **options)
    first = panel[unit].map(assignment.first_treat).fillna(0).astype(int)
    years = _panel_years(panel, time)
    dummy = ((first > 0) & (years >= first)).astype(float)
    dummy.name = f"{assignment.policy}_dummy"
    dummy.attrs["notes"] = list(assignment.notes)
    dummy.attrs["caveats"] = list(assignment.caveats)
    dummy.attrs["policy"] = assignment.policy
    return dummy
