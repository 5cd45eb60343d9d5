"""Hadamard-product parameter-efficient fine-tuning adapters.

HiRA (`W = W0 + W0 * (A B)`) and LoHa (`ΔW = (A1 B1) * (A2 B2)`) for the
`Dense`, `EinsumDense` and `Conv2D` layers of any Keras model, with Keras's
own LoRA (`enable_lora`) as the baseline one call away.
"""

from hadamard_zoo.adapters.api import adapter_summary
from hadamard_zoo.adapters.api import enable_hira
from hadamard_zoo.adapters.api import enable_loha
from hadamard_zoo.adapters.api import enable_lora
from hadamard_zoo.adapters.api import load_adapter_weights
from hadamard_zoo.adapters.api import merge_adapters
from hadamard_zoo.adapters.api import save_adapter_weights
from hadamard_zoo.adapters.api import trainable_parameter_count
from hadamard_zoo.adapters.base import HadamardAdapter
from hadamard_zoo.adapters.hira import HiRAConv2D
from hadamard_zoo.adapters.hira import HiRADense
from hadamard_zoo.adapters.hira import HiRAEinsumDense
from hadamard_zoo.adapters.loha import LoHaConv2D
from hadamard_zoo.adapters.loha import LoHaDense
from hadamard_zoo.adapters.loha import LoHaEinsumDense
