"""The index weights table speaks of the paper's published weights only when the indicator system carries them
(SYNTHETIC panel, a two-indicator system without published weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.measures import build_index
from pilotdid.report.index_tables import weights_table


def test_no_paper_notes_or_columns_without_published_weights(tmp_path):
    system = tmp_path / "system.toml"
    system.write_text('unit = "u"\ntime = "t"\n'
                      '[[indicator]]\nname = "a"\ndimension = "d1"\nsign = "+"\n'
                      '[[indicator]]\nname = "b"\ndimension = "d2"\nsign = "-"\n', encoding="utf-8")
    rng = np.random.default_rng(1)
    panel = pd.DataFrame({"u": np.repeat(np.arange(10), 3), "t": np.tile([1, 2, 3], 10),
                          "a": rng.uniform(1, 2, 30), "b": rng.uniform(1, 2, 30)})
    table = weights_table(build_index(panel, system, unit="u", time="t"))
    text = " ".join(table.notes) + " ".join(map(str, table.body.columns))
    assert "paper" not in text.lower() and "Table 1" not in text
    assert any("'not in data'" in n for n in table.notes)
