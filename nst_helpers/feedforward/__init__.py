"""Real-time style: a network that paints a photo in one forward pass (Johnson et al., 2016).

Optimising pixels (``transfer.stylize``) solves one problem per photo: hundreds of passes through
VGG19. Johnson, Alahi and Fei-Fei instead train a feed-forward *image transformation network* once
per painting, with the same content and style losses, over many photos; afterwards a photo is
painted by one pass through that small network. Notebook 8's chapter, in two modules:

=========  ==================================================================================
network    ``TransformNet``, its files (``save_network``, ``load_network``), applying it
training   ``train_network`` and its ``TrainConfig``: the course's objective over crops of photos, Adam
=========  ==================================================================================
"""

from ..photos import (
    HELD_OUT_PHOTOS,
    TRAINING_PHOTOS,
    PhotoCrops,
    bundled_photos,
    check_training_photos,
    photo_files,
)
from .network import (
    FILE_FORMAT,
    FILE_VERSION,
    MAX_BATCH,
    MAX_DEPTH,
    MAX_WIDTH,
    META_FIELDS,
    NETWORK_SIZES,
    ResidualBlock,
    TransformNet,
    apply_bytes,
    apply_network,
    apply_to_folder,
    check_depth,
    check_meta,
    check_width,
    describe_network,
    load_network,
    make_network,
    network_shape,
    output_path_for,
    plan_photos,
    read_network_file,
    save_network,
)
from .training import (
    HISTORY,
    TRAIN_OPTIONS,
    TRAIN_PRESETS,
    TrainConfig,
    Training,
    TrainResult,
    check_side,
    load_painting,
    make_train_config,
    objective_loss,
    prepare_training,
    train_network,
    training_config,
    training_precision,
)

__all__ = [
    "apply_bytes",
    "apply_network",
    "apply_to_folder",
    "bundled_photos",
    "check_depth",
    "check_meta",
    "check_side",
    "check_training_photos",
    "check_width",
    "describe_network",
    "FILE_FORMAT",
    "FILE_VERSION",
    "HELD_OUT_PHOTOS",
    "HISTORY",
    "load_network",
    "load_painting",
    "make_network",
    "make_train_config",
    "MAX_BATCH",
    "MAX_DEPTH",
    "MAX_WIDTH",
    "META_FIELDS",
    "network_shape",
    "NETWORK_SIZES",
    "objective_loss",
    "output_path_for",
    "photo_files",
    "PhotoCrops",
    "plan_photos",
    "prepare_training",
    "read_network_file",
    "ResidualBlock",
    "save_network",
    "train_network",
    "TRAIN_OPTIONS",
    "TRAIN_PRESETS",
    "TrainConfig",
    "Training",
    "training_config",
    "TRAINING_PHOTOS",
    "training_precision",
    "TrainResult",
    "TransformNet",
]
