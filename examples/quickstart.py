# %% [markdown]
# # pilotdid quickstart: the Python API on a real panel
#
# The low-carbon-city pilot sample shipped in `examples/lowcarbon/` (REAL data: 215 cities, 2007-2023; see its
# README). Every number below equals the number `pilotdid run` writes for the same panel and options —
# `tests/test_quickstart.py` runs this file and checks that. Run it as a script (`python examples/quickstart.py`)
# or cell by cell (`# %%` cells: VS Code, Jupyter via jupytext, Spyder).

# %%
import os
import tempfile
from pathlib import Path

import pandas as pd

import pilotdid as pdid

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path("examples").resolve()
OUT = Path(os.environ.get("PILOTDID_QUICKSTART_OUT") or tempfile.mkdtemp(prefix="pilotdid_quickstart_"))

# %% [markdown]
# ## Load a panel: one row per city and year, a 0/1 treatment column `did`

# %%
raw = pd.read_excel(HERE / "lowcarbon" / "sample.xlsx", sheet_name="Sheet1")
outcome = "ln_carbon_intensity"
controls = ["ln_pgdp", "ln_pop_density", "industrial_advanced", "ln_road_area", "financial_development"]

# Staggered timing as a first-treatment year (0 = never treated), then the rows with every model variable.
first_year = raw.loc[raw["did"] == 1].groupby("city_name")["year"].min()
raw["first_treat"] = raw["city_name"].map(first_year).fillna(0).astype(int)
panel = raw.dropna(subset=[outcome, *controls]).copy()
print(f"{len(panel)} city-years, {panel['city_name'].nunique()} cities, "
      f"{(first_year.index.isin(panel['city_name'])).sum()} ever treated")

# %% [markdown]
# ## Two-way fixed effects, with the standard-error convention named
# `vcov="lsdv"` is `reg y x i.city i.year, vce(cluster city)` — the convention of the published regression.

# %%
fit = pdid.twfe(panel, f"{outcome} ~ did + {' + '.join(controls)} | city_name + year",
                vcov="lsdv", cluster="city_name")
print(fit.summary())
fit.tidy()

# %% [markdown]
# ## Event study (binned at both ends, base period -1) and its plot

# %%
es = pdid.event_study(panel, outcome=outcome, unit="city_name", time="year", first_treat="first_treat",
                      controls=controls, fixed_effects=["city_name", "year"], cluster="city_name",
                      window=(-4, 4), base=-1, vcov="lsdv")
print("pre-trend test:", {k: es.pretrend[k] for k in ("q", "F", "p_F")})
es_figure = es.plot()  # a matplotlib Figure; nothing is saved or shown
es_figure.savefig(OUT / "event_study.png")

# %% [markdown]
# ## Callaway & Sant'Anna on the balanced panel (never-treated controls, universal base period)

# %%
periods = panel["year"].nunique()
complete = panel.groupby("city_name")["year"].nunique()
balanced = panel[panel["city_name"].isin(complete.index[complete == periods])]
cs = pdid.att_gt(balanced, outcome=outcome, unit="city_name", time="year", first_treat="first_treat",
                 control_group="never_treated", base_period="universal")
simple = cs.aggregate("simple")
dynamic = cs.aggregate("dynamic")
print(simple.summary())
dynamic.tidy()

# %% [markdown]
# ## HonestDiD: how large a violation of parallel trends overturns the adoption-year effect

# %%
sens = pdid.honest(cs, method="RM", target="first", window=(-4, 4))
print(sens.summary())

# %% [markdown]
# ## A Word table (also: format="tex", "md", "html", "xlsx")

# %%
table_path = pdid.table([fit], format="docx", path=OUT / "twfe.docx")
print("written:", table_path)
