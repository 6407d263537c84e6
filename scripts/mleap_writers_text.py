"""MLeap writers for the text stages (loaded by mleap_bundle_writer.py).

Attribute names as MLeap's Spark serializers write them (mleap-spark ops/feature):
tokenizer (none), regex_tokenizer (regex, match_gaps, token_min_length, lowercase_text),
stopwords_remover (stop_words, case_sensitive; input/output or input0..N/output0..N),
hashing_term_frequency (num_features, binary, hashUnsafeBytesVersion = 2 for Spark 3+),
count_vectorizer (vocabulary, binary, min_tf), ngram (n),
word_to_vector (words, indices, flat word_vectors, kernel).
"""


def write_tokenizer(stage):
    # (module-level helpers are not visible: the loader execs this file with separate locals)
    ins, outs = [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]
    return Node("tokenizer", {}, ins, outs)  # noqa: F821 - provided by mleap_bundle_writer


def write_regex_tokenizer(stage):
    # (module-level helpers are not visible: the loader execs this file with separate locals)
    ins, outs = [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]
    attrs = {"regex": s_string(stage.p("pattern", "\\s+")),  # noqa: F821
             "match_gaps": s_bool(stage.p("gaps", True)),  # noqa: F821
             "token_min_length": {"int": int(stage.p("minTokenLength", 1))},
             "lowercase_text": s_bool(stage.p("toLowercase", True))}  # noqa: F821
    return Node("regex_tokenizer", attrs, ins, outs)  # noqa: F821


def write_stopwords_remover(stage):
    locale = stage.p("locale", "en")
    if locale.split("_")[0].lower() in ("tr", "az", "lt") and not stage.p("caseSensitive", False):
        raise Unwritable(f"MLeap's stopwords_remover has no locale (model uses {locale})")  # noqa: F821
    ins, outs = single_or_multi(stage)  # noqa: F821
    multi = len(ins) > 1
    attrs = {"stop_words": l_strings(stage.p("stopWords")),  # noqa: F821
             "case_sensitive": s_bool(stage.p("caseSensitive", False))}  # noqa: F821
    return Node("stopwords_remover", attrs, ports("input", ins, multi),  # noqa: F821
                ports("output", outs, multi))  # noqa: F821


def write_hashing_tf(stage):
    # (module-level helpers are not visible: the loader execs this file with separate locals)
    ins, outs = [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]
    attrs = {"num_features": s_long(stage.p("numFeatures", 1 << 18)),  # noqa: F821
             "binary": s_bool(stage.p("binary", False)),  # noqa: F821
             "hashUnsafeBytesVersion": {"int": 2}}
    return Node("hashing_term_frequency", attrs, ins, outs)  # noqa: F821


def write_count_vectorizer(stage):
    # (module-level helpers are not visible: the loader execs this file with separate locals)
    ins, outs = [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]
    attrs = {"vocabulary": l_strings(stage.row()["vocabulary"]),  # noqa: F821
             "binary": s_bool(stage.p("binary", False)),  # noqa: F821
             "min_tf": s_double(stage.p("minTF", 1.0))}  # noqa: F821
    return Node("count_vectorizer", attrs, ins, outs)  # noqa: F821


def write_ngram(stage):
    # (module-level helpers are not visible: the loader execs this file with separate locals)
    ins, outs = [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]
    return Node("ngram", {"n": s_long(stage.p("n", 2))}, ins, outs)  # noqa: F821


def write_word2vec(stage):
    ins, outs = [("input", stage.p("inputCol"))], [("output", stage.p("outputCol"))]
    words = [r["word"] for r in stage.rows]
    flat = [float(x) for r in stage.rows for x in r["vector"]]
    attrs = {"words": l_strings(words),  # noqa: F821
             "indices": l_longs(range(len(words))),  # noqa: F821
             "word_vectors": l_doubles(flat),  # noqa: F821
             "kernel": s_string("default")}  # noqa: F821
    return Node("word_to_vector", attrs, ins, outs)  # noqa: F821


WRITERS = {
    "Tokenizer": write_tokenizer,
    "RegexTokenizer": write_regex_tokenizer,
    "StopWordsRemover": write_stopwords_remover,
    "HashingTF": write_hashing_tf,
    "CountVectorizerModel": write_count_vectorizer,
    "NGram": write_ngram,
    "Word2VecModel": write_word2vec,
}
