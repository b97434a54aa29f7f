"""Names a per-compressor model graph and the edge runtime agree on (beyond the bundle manifest).

A model with one baseline per compressor has a second input, `compressor_index` (int64,
the row's position in the `altaviz.compressors` metadata list), and may name the
operating states it scores in `altaviz.scored_states` (JSON lists in the ONNX metadata).
"""

from __future__ import annotations

COMPRESSOR_INPUT = "compressor_index"
META_COMPRESSORS = "altaviz.compressors"
META_SCORED_STATES = "altaviz.scored_states"
