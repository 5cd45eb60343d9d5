"""StyleGAN and DCGAN-baseline presets.

Empty here on purpose: named presets are registered with keras-hub in one
place, `hadamard_zoo/presets.py` (DESIGN.md §3.5-3.6).
"""

backbone_presets = {}
