"""Vocabulary layers: StringLookup, IntegerLookup, TextVectorization (Keras 3).

Their vocabulary is data: given as a list (``vocabulary=[...]``) it is known, and
``get_vocabulary()`` is the mask token (``output_mode="int"`` only), the OOV tokens, then the
terms (``IndexLookup.get_vocabulary``); learnt by ``adapt()`` it is not known statically.
Keras 3 keeps the vocabulary in a lookup table, not in variables: these layers have no
weights (``tf_idf`` keeps its IDF weights in a variable: not modelled).  tf-keras is not
modelled.
"""

from __future__ import annotations

from typing import Any

from bnlint.keras.catalogue import Built, Call, Config, Unknown, layer_rule

_MODES = ("int", "one_hot", "multi_hot", "count")


def vocabulary(class_name: str, values: dict[str, Any], version: int) -> list[Any] | None:
    """``get_vocabulary()`` of a lookup layer whose vocabulary is a literal list, else None
    (adapted, a file, or a value Keras would reject)."""
    if version != 3 or values.get("__adapted__"):
        return None
    cfg = Config(class_name, values, version)
    try:
        terms = cfg.get("vocabulary", None)
        mode = cfg.get("output_mode", "int")
        if class_name == "TextVectorization":
            mask, oov, n_oov = "", "[UNK]", 1
        else:
            mask = cfg.get("mask_token", None)
            oov = cfg.get("oov_token", "[UNK]" if class_name == "StringLookup" else -1)
            n_oov = cfg.get("num_oov_indices", 1)
        max_tokens = cfg.get("max_tokens", None)
    except Unknown:
        return None
    if not isinstance(terms, (list, tuple)) or not isinstance(n_oov, int) or n_oov < 0:
        return None
    plain = str if class_name != "IntegerLookup" else int
    if not all(isinstance(t, plain) and not isinstance(t, bool) for t in terms):
        return None
    if len(set(terms)) != len(terms) or (mask is not None and mask in terms) or oov in terms:
        return None  # Keras raises on repeated or reserved terms
    head = [mask] if mask is not None and mode == "int" else []
    out = [*head, *([oov] * n_oov), *terms]
    if isinstance(max_tokens, int) and len(out) > max_tokens:
        return None  # Keras raises: the vocabulary is larger than max_tokens
    return out


def _depth(call: Call) -> Any:
    cfg = call.cfg
    if cfg.get("pad_to_max_tokens", False):
        max_tokens = cfg.get("max_tokens", None)
        if max_tokens is None:
            raise Unknown(f"{cfg.class_name}: pad_to_max_tokens needs max_tokens")
        return cfg.size("max_tokens")
    if cfg.values.get("__vocab_size__") is not None:  # adapted: a symbol or its define
        return cfg.values["__vocab_size__"]
    vocab = vocabulary(cfg.class_name, cfg.values, call.version)
    if vocab is None:
        raise Unknown(f"{cfg.class_name}: the output size is the vocabulary size, which "
                      "depends on adapt() data (pass vocabulary=[...] or pad_to_max_tokens)")
    return len(vocab)


def _check(call: Call) -> str:
    if call.version != 3:
        raise Unknown(f"tf-keras {call.cfg.class_name} is not modelled")
    mode = call.cfg.get("output_mode", "int")
    if mode not in _MODES:
        raise Unknown(f"{call.cfg.class_name}: output_mode={mode!r} is not modelled")
    return mode


@layer_rule("StringLookup", "IntegerLookup")
def lookup(call: Call) -> Built:
    mode = _check(call)
    if call.cfg.get("invert", False) and mode != "int":
        raise Unknown(f"{call.cfg.class_name}: invert with output_mode={mode!r}")
    x = tuple(call.input)
    if mode == "int":
        return Built([x])
    depth = _depth(call)
    if mode == "one_hot":
        if len(x) > 1 and x[-1] == 1:
            return Built([(*x[:-1], depth)])
        return Built([(*x, depth)])
    return Built([(*x[:-1], depth)])


@layer_rule("TextVectorization")
def text_vectorization(call: Call) -> Built:
    mode = _check(call)
    x = tuple(call.input)
    if mode == "int":
        return Built([(x[0], call.cfg.opt_size("output_sequence_length", None))])
    if call.cfg.get("split", "whitespace") is None:
        shape = (*x, 1) if len(x) <= 1 else x
    else:
        shape = (*x, None)
    depth = _depth(call)
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return Built([(*shape[:-1], depth)])
        return Built([(*shape, depth)])
    return Built([(*shape[:-1], depth)])
