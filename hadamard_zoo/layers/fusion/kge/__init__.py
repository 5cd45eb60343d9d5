"""Knowledge-graph embedding scores of `[head, relation, tail]` triples."""

from hadamard_zoo.layers.fusion.kge.compl_ex import ComplEx
from hadamard_zoo.layers.fusion.kge.dist_mult import DistMult
from hadamard_zoo.layers.fusion.kge.rotate import RotatE
from hadamard_zoo.layers.fusion.kge.trans_e import TransE
