"""What is style? Style statistics compared fairly (notebook 10's chapter), in two modules:

==========  ===================================================================================
networks    the three networks compared: VGG19 with loaded weights, VGG19 with seeded random
            weights, and a random shallow multi-scale network with VGG19's feature interface
judge       a fair comparison: objectives calibrated per statistic and network, transfers, and
            the cross-evaluation that scores each picture in networks it was not optimised in
==========  ===================================================================================

The statistics themselves are part of the core (``nst_helpers.statistics``, ``StyleConfig.style_loss``).
"""

from .judge import (
    JUDGE_LAYERS,
    calibrate,
    content_distance,
    cross_evaluate,
    judge_table,
    style_distance,
    transfer,
)
from .networks import NETWORKS, ShallowMultiScale, load_network, random_vgg19

__all__ = [
    "JUDGE_LAYERS",
    "NETWORKS",
    "ShallowMultiScale",
    "calibrate",
    "content_distance",
    "cross_evaluate",
    "judge_table",
    "load_network",
    "random_vgg19",
    "style_distance",
    "transfer",
]
