"""BN014: a BatchNormalization axis that is not the channel axis of Keras's default layout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.bn_layers import _bn_axis, _conv_rank, _rank
from bnlint.rules.graphs import INFERENCE_IDENTITY, bn_in, single_inbound

if TYPE_CHECKING:
    from bnlint import graph

#: layers with a ``data_format`` argument (their channel axis follows it)
_FORMATTED = re.compile(r"^(Conv|SeparableConv|DepthwiseConv|MaxPooling|AveragePooling|"
                        r"UpSampling|ZeroPadding|Cropping|SpatialDropout)[123]D(Transpose)?$")
#: a file that changes the global layout (or asks which it is) is left to BN007
_CHANGES_LAYOUT = re.compile(r"set_image_data_format|dim_ordering|keras\.json")


class BatchNormAxisDefaultFormat(Rule):
    code = "BN014"
    name = "batchnorm-axis-not-channels-last"
    message = ("BatchNormalization `{bn}` normalizes axis {axis} but `{src}` puts its channels "
               "on axis {channel} (Keras's default data_format \"channels_last\" assumed: "
               "`{src}` does not set one)")
    why = ("BN keeps one mean/variance per index of its axis. With the default channels_last "
           "layout the channels are the last axis; axis={axis} normalizes per {what} instead, "
           "across channels, so the statistics depend on the image size and mix channels.")
    fix = ("Use `axis=-1` (the default) on `{bn}`; if the model is meant to be channels_first, "
           "pass `data_format=\"channels_first\"` to `{src}` as well.")

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.kind not in ("source", "notebook"):
            return  # saved configs always state data_format: BN007's case
        if ctx.source is not None and _CHANGES_LAYOUT.search(ctx.source.text):
            return
        for model, la in bn_in(ctx.models):
            if la.unknown:
                continue
            axis = _bn_axis(la)
            if axis is None:
                continue
            src = _source(model, la)
            if src is None or src.unknown or not _FORMATTED.match(src.class_name):
                continue
            if src.config.get("data_format") is not None:
                continue  # stated: BN007 decides
            rank = _rank(src) or _conv_rank(src.class_name)
            if rank is None or not -rank <= axis < rank:
                continue
            channel = rank - 1
            if axis % rank == channel:
                continue
            what = "row" if axis % rank == 1 and rank >= 4 else (
                "time step" if rank == 3 and axis % rank == 1 else "position")
            if axis % rank == 0:
                continue  # the batch axis: a different mistake, and Keras rejects it
            yield self.report(ctx, la.location, bn=la.name, axis=axis, src=src.name,
                              channel=channel, what=what)


def _source(model: graph.Model, layer: graph.Layer) -> graph.Layer | None:
    """The layer whose layout BN sees: back through activations and dropout."""
    src = single_inbound(model, layer)
    seen = 0
    while src is not None and seen < 20 and (
            src.class_name in INFERENCE_IDENTITY - {"Flatten", "Reshape"}
            or src.class_name in ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU")):
        src = single_inbound(model, src)
        seen += 1
    return src
