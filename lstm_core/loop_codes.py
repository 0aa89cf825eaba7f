"""What the compiled loops (kernels.py) and their numpy twins (loops.py) share, so neither imports the other
to read it: the LSTM variants as codes, and where the float32 tanh saturates.

A variant's name is mapped to its code here, once (registry.LSTM.variants says what each name means);
both loops compare the code against these names, never against a bare number.
"""

from __future__ import annotations

import numpy as np

VANILLA, PEEPHOLE, CIFG, NFG, NIG, NOG, NIAF, NOAF = range(8)
VARIANT_CODES = {"vanilla": VANILLA, "peephole": PEEPHOLE, "cifg": CIFG, "nfg": NFG, "nig": NIG, "nog": NOG,
                 "niaf": NIAF, "noaf": NOAF}
TANH_CLAMP = np.float32(7.99881172180175781)  # beyond this the float32 tanh is +-1 to within rounding
