"""One entry of `model.layers` (arch: layers): the refresher's layers, each with its own key.

Convolutions take `dilation` (a 3x3 with dilation 2 sees 5x5: the receptive field grows by
(k - 1) x dilation x jump) and `groups` (groups = input channels: a depthwise conv, which with a
1x1 conv after it is the depthwise separable conv of Xception and MobileNet). Normalisations
follow Wu & He, "Group Normalization" (2018), Fig. 2: batchnorm over (N, H, W), layernorm over
(C, H, W) of one image, instancenorm over (H, W) of one channel, groupnorm over (H, W) of groups
of channels; each with a learned scale and shift per channel. `lrn` is AlexNet's local response
normalisation with the paper's constants.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cnn_tui.contract.errors import excerpt
from cnn_tui.recipes.strict import Strict

# Krizhevsky et al. (2012), Sec. 3.3: k = 2, n = 5, alpha = 1e-4, beta = 0.75, in the paper's
# formula b = a / (k + alpha * sum of a^2 over n neighbouring channels)^beta
LRN_PAPER = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}


class LayerSpec(Strict):
    """One entry of a declarative layer list; exactly one of the fields is set."""

    # out channels, or {out, kernel, stride, padding, dilation, groups}
    conv: int | dict[str, Any] | None = None
    # transposed ("fractionally strided") conv: {out, kernel, stride, padding, output_padding};
    # out size = (in - 1) x stride - 2 x padding + kernel + output_padding
    conv_transpose: int | dict[str, Any] | None = None
    pool: Literal["max", "avg"] | dict[str, Any] | None = None  # or {type, size, stride}
    batchnorm: bool | None = None
    layernorm: bool | None = None
    instancenorm: bool | None = None
    groupnorm: int | None = Field(None, ge=1, le=4096)  # groups (Wu & He's default: 32)
    lrn: bool | dict[str, Any] | None = None  # true: AlexNet's constants; or {size, alpha, beta, k}
    dropout: float | None = Field(None, ge=0.0, lt=1.0)
    act: Literal["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu"] | None = None
    flatten: bool | None = None
    global_pool: Literal["avg", "max"] | None = None
    linear: int | None = Field(None, ge=1)  # out features

    @field_validator("conv")
    @classmethod
    def _conv_form(cls, value: int | dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        spec: dict[str, Any] = {"out": value} if isinstance(value, int) else dict(value)
        _check_keys(spec, {"out", "kernel", "stride", "padding", "dilation", "groups"})
        for key, default in (("kernel", 3), ("stride", 1), ("padding", "same"), ("dilation", 1), ("groups", 1)):
            spec.setdefault(key, default)
        _whole(spec, ("out", "kernel", "stride", "dilation", "groups"), "conv")
        if spec["padding"] != "same" and not _is_whole(spec["padding"], 0):
            raise ValueError(f"conv padding must be 'same' or a whole number >= 0 (got {excerpt(spec['padding'])})")
        if spec["padding"] == "same" and spec["stride"] > 1:
            raise ValueError(f"conv padding 'same' needs stride 1 (got stride {spec['stride']}); "
                             "give padding as a number, e.g. padding: 1")
        if spec["out"] % spec["groups"]:
            raise ValueError(f"conv groups must divide out ({spec['out']} channels); got groups {spec['groups']}")
        return spec

    @field_validator("conv_transpose")
    @classmethod
    def _transpose_form(cls, value: int | dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        spec: dict[str, Any] = {"out": value} if isinstance(value, int) else dict(value)
        _check_keys(spec, {"out", "kernel", "stride", "padding", "output_padding"})
        for key, default in (("kernel", 2), ("stride", 2), ("padding", 0), ("output_padding", 0)):
            spec.setdefault(key, default)
        _whole(spec, ("out", "kernel", "stride"), "conv_transpose")
        _whole(spec, ("padding", "output_padding"), "conv_transpose", minimum=0)
        if spec["output_padding"] >= spec["stride"]:
            raise ValueError(f"conv_transpose output_padding must be smaller than stride ({spec['stride']}); "
                             f"got {spec['output_padding']}")
        return spec

    @field_validator("pool")
    @classmethod
    def _pool_form(cls, value: str | dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        spec: dict[str, Any] = {"type": value} if isinstance(value, str) else dict(value)
        _check_keys(spec, {"type", "size", "stride"})
        spec.setdefault("type", "max")
        spec.setdefault("size", 2)
        spec.setdefault("stride", spec["size"])
        if spec["type"] not in ("max", "avg"):
            raise ValueError(f"pool type must be max or avg (got {excerpt(spec['type'])})")
        _whole(spec, ("size", "stride"), "pool")
        return spec

    @field_validator("lrn")
    @classmethod
    def _lrn_form(cls, value: bool | dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None or value is False:
            return None
        spec = dict(LRN_PAPER) if value is True else {**LRN_PAPER, **value}
        _check_keys(spec, set(LRN_PAPER))
        _whole(spec, ("size",), "lrn")
        for key in ("alpha", "beta", "k"):
            if isinstance(spec[key], bool) or not isinstance(spec[key], int | float) or spec[key] < 0:
                raise ValueError(f"lrn {key} must be a number >= 0 (got {excerpt(spec[key])})")
        return spec

    @model_validator(mode="after")
    def _one_kind(self) -> LayerSpec:
        set_fields = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(set_fields) != 1:
            raise ValueError(f"each layer needs exactly one of {', '.join(type(self).model_fields)} "
                             f"(got {', '.join(set_fields) or 'none'})")
        return self


def _is_whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _whole(spec: dict[str, Any], keys: tuple[str, ...], layer: str, minimum: int = 1) -> None:
    for key in keys:
        if not _is_whole(spec.get(key), minimum):
            raise ValueError(f"{layer} {key} must be a whole number >= {minimum} (got {excerpt(spec.get(key))})")


def _check_keys(spec: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(str(key) for key in spec if key not in allowed)  # keys may be numbers too
    if unknown:
        import difflib

        hint = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ValueError(f"unknown key {excerpt(unknown[0])}{did_you_mean}; allowed: {', '.join(sorted(allowed))}")
