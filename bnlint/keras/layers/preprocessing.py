"""Image preprocessing and augmentation layers (Normalization lives in normalization.py).

None of these layers own weights.  Keras 3's random layers create a
``SeedGenerator`` whose state variable is in ``layer.variables`` but not in
``layer.weights`` / ``get_weights()`` (``Layer.weights`` skips seed
generators), so bnlint reports no weights for them; tf-keras's
``BaseRandomLayer`` creates none either.

Keras 3 reports ``compute_output_shape``, which for most layers returns the
input shape for any rank; tf-keras traces ``tf.image`` ops, which need a rank
3 (one image) or rank 4 (a batch) input.
"""

from __future__ import annotations

from bnlint.keras.catalogue import Built, Call, Shape, Unknown, layer_rule

# Keras 3 layers whose compute_output_shape returns the input shape, any rank.
KERAS3_SHAPE_PRESERVING = (
    "AugMix",
    "AutoContrast",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Equalization",
    "MixUp",
    "RandAugment",
    "RandomColorJitter",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "Solarization",
)

# Layers present in both versions that keep the input shape.
SHAPE_PRESERVING = (
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomBrightness",
)


def _image_rank(call: Call, x: Shape) -> None:
    """tf-keras's image ops need a single image (rank 3) or a batch (rank 4)."""
    if call.version == 2 and len(x) not in (3, 4):
        raise Unknown(f"tf-keras {call.cfg.class_name} needs a rank 3 or 4 input, got {len(x)}")


def _data_format(call: Call) -> str:
    if call.version == 2:
        return "channels_last"
    fmt = call.cfg.get("data_format", None) or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        raise Unknown(f"data_format={fmt!r} is not understood")
    return str(fmt)


@layer_rule("Rescaling")
def rescaling(call: Call) -> Built:
    return Built([call.input])


@layer_rule(*SHAPE_PRESERVING)
def shape_preserving(call: Call) -> Built:
    x = call.input
    if call.version == 2:
        if call.cfg.class_name == "RandomContrast":
            if len(x) < 3:
                raise Unknown(f"tf-keras RandomContrast needs a rank >= 3 input, got {len(x)}")
        else:
            _image_rank(call, x)
    return Built([x])


@layer_rule(*KERAS3_SHAPE_PRESERVING)
def keras3_shape_preserving(call: Call) -> Built:
    if call.version != 3:
        raise Unknown(f"{call.cfg.class_name} exists in Keras 3 only")
    return Built([call.input])


@layer_rule("RandomColorDegeneration")
def random_color_degeneration(call: Call) -> Built:
    if call.version != 3:
        raise Unknown("RandomColorDegeneration exists in Keras 3 only")
    x = call.input
    if len(x) not in (3, 4):
        raise Unknown(f"RandomColorDegeneration needs a rank 3 or 4 input, got {len(x)}")
    channels = x[-1] if _data_format(call) == "channels_last" else x[-3]
    if channels is not None and channels != 3:
        raise Unknown(f"RandomColorDegeneration needs 3 channels, got {channels}")
    return Built([x])


def _set_hw(call: Call, x: Shape, keras3_rank34_only: bool) -> Shape:
    h = call.cfg.size("height")
    w = call.cfg.size("width")
    out = list(x)
    if call.version == 2:
        _image_rank(call, x)
        out[-3], out[-2] = h, w
        smart = call.cfg.class_name in ("CenterCrop", "RandomCrop") or (
            call.cfg.class_name == "Resizing" and call.cfg.flag("crop_to_aspect_ratio", False)
        )
        if smart and len(x) == 4 and (x[1] is None or x[2] is None):
            # tf.cond between a crop and image_utils.smart_resize, whose tf.slice
            # loses the static batch size when the height or width is unknown.
            out[0] = None
        return tuple(out)
    fmt = _data_format(call)
    if keras3_rank34_only and len(x) not in (3, 4):
        raise Unknown(f"{call.cfg.class_name} needs a rank 3 or 4 input, got {len(x)}")
    if len(x) < 2:
        raise Unknown(f"{call.cfg.class_name}: input of rank {len(x)}")
    if len(x) == 4:
        i = 1 if fmt == "channels_last" else 2
    else:
        # Keras 3 treats every other rank as one unbatched image.
        i = 0 if fmt == "channels_last" else 1
    if i + 1 >= len(x):
        raise Unknown(f"{call.cfg.class_name}: input of rank {len(x)}")
    out[i], out[i + 1] = h, w
    return tuple(out)


@layer_rule("Resizing")
def resizing(call: Call) -> Built:
    return Built([_set_hw(call, call.input, keras3_rank34_only=False)])


@layer_rule("CenterCrop")
def center_crop(call: Call) -> Built:
    return Built([_set_hw(call, call.input, keras3_rank34_only=True)])


@layer_rule("RandomCrop")
def random_crop(call: Call) -> Built:
    x = call.input
    if call.version == 2:
        return Built([_set_hw(call, x, keras3_rank34_only=True)])
    # Keras 3: height/width axes are fixed negative indices, any rank >= 3.
    hi, wi = (-3, -2) if _data_format(call) == "channels_last" else (-2, -1)
    if len(x) < -hi:
        raise Unknown(f"RandomCrop needs an input of rank >= {-hi}, got {len(x)}")
    out = list(x)
    out[hi] = call.cfg.size("height")
    out[wi] = call.cfg.size("width")
    return Built([tuple(out)])


@layer_rule("RandomHeight", "RandomWidth")
def random_height_width(call: Call) -> Built:
    if call.version != 2:
        raise Unknown(f"{call.cfg.class_name} does not exist in Keras 3")
    x = call.input
    _image_rank(call, x)
    out = list(x)
    out[-3 if call.cfg.class_name == "RandomHeight" else -2] = None
    return Built([tuple(out)])
