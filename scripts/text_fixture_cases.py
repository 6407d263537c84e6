"""Spark fixture cases for the text stages, registered into gen_spark_fixtures.py's CASES.

Inputs are Parquet/JSON only: the array<string> columns cannot go through Spark's CSV writer.
Null rows are not included: every text stage fails on a null string/array in Spark (its UDF
throws NullPointerException); ember's unit tests cover that. Null tokens inside arrays are.
"""
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import (CountVectorizer, HashingTF, NGram, RegexTokenizer,
                                StopWordsRemover, Tokenizer, Word2Vec)
from pyspark.sql.types import ArrayType, IntegerType, StringType

SENTENCES = [
    "Hello World",
    "The quick brown fox jumps over the lazy dog",
    "  leading and trailing spaces  ",
    "multiple   spaces\tand\ttabs\nand newlines",
    "",
    " ",
    "UPPER lower MiXeD",
    "Ünïcödé wörds: naïve café, résumé",
    "ΟΔΟΣ ΣΟΦΙΑΣ final sigma",
    "İstanbul TITLE ıi",
    "日本語 テキスト 中文",
    "emoji 😀 a😀b 👍🏽",
    "no\u00a0break\u3000ideographic space",
    "punctuation, commas; semi-colons! and... dots",
    "numbers 123 4.56 7e8 x9",
    "a an the is are was I me my",
    "repeat repeat repeat word",
    "tabs\t\t\tonly",
    "x",
    "The THE the tHe",
]

WORDS = ["the", "a", "spark", "Spark", "SPARK", "", "naïve", "Ünïcödé", "I", "ı", "İ", "is",
         "data", "ml", "😀", "日本", "and", "or", "The", "word"]


def token_rows(rng, n, with_nulls=True):
    rows = []
    for i in range(n):
        k = rng.randint(0, 9)
        toks = [rng.choice(WORDS) for _ in range(k)]
        if with_nulls and rng.random() < 0.2 and toks:
            toks[rng.randrange(len(toks))] = None
        rows.append((i, toks))
    return rows


TOKEN_FIELDS = [("id", IntegerType()), ("tokens", ArrayType(StringType(), True))]


def register(case, emit, df):
    @case
    def text_tokenizers(spark, out, rng):
        """Tokenizer and RegexTokenizer variants on mixed-case, unicode and whitespace text."""
        fields = [("id", IntegerType()), ("text", StringType())]
        rows = [(i, s) for i, s in enumerate(SENTENCES)]
        stages = [
            Tokenizer(inputCol="text", outputCol="tok"),
            RegexTokenizer(inputCol="text", outputCol="rt_default"),
            RegexTokenizer(inputCol="text", outputCol="rt_words", pattern="\\w+", gaps=False,
                           minTokenLength=2, toLowercase=False),
            RegexTokenizer(inputCol="text", outputCol="rt_sep", pattern="[,;]\\s*|\\s",
                           minTokenLength=0),
            RegexTokenizer(inputCol="text", outputCol="rt_long", pattern="\\s+",
                           minTokenLength=4, toLowercase=False),
            RegexTokenizer(inputCol="text", outputCol="rt_digits", pattern="\\d+|\\b[a-z]",
                           gaps=False),
        ]
        m = Pipeline(stages=stages).fit(df(spark, rows, fields))
        emit(spark, "text_tokenizers", m, df(spark, rows, fields),
             "Tokenizer and RegexTokenizer (gaps/matches, minTokenLength, toLowercase) on "
             "whitespace, empty, unicode, emoji and case edge cases", out)

    @case
    def text_stopwords(spark, out, rng):
        """StopWordsRemover: default English list, case-sensitive custom list, Turkish locale,
        multi-column; null and empty tokens."""
        fields = TOKEN_FIELDS + [("more", ArrayType(StringType(), True))]
        rows = [(i, t, m) for (i, t), (_, m) in zip(token_rows(rng, 40), token_rows(rng, 40))]
        stages = [
            StopWordsRemover(inputCol="tokens", outputCol="sw_default"),
            StopWordsRemover(inputCol="tokens", outputCol="sw_cs", caseSensitive=True,
                             stopWords=["the", "Spark", "", "ı"]),
            StopWordsRemover(inputCol="tokens", outputCol="sw_ci", caseSensitive=False,
                             stopWords=["THE", "spark", "İ"], locale="en_US"),
            StopWordsRemover(inputCols=["tokens", "more"], outputCols=["m1", "m2"],
                             stopWords=["a", "the", "data"]),
        ]
        m = Pipeline(stages=stages).fit(df(spark, rows, fields))
        emit(spark, "text_stopwords", m, df(spark, rows, fields),
             "StopWordsRemover: default list, case-sensitive, en_US locale, "
             "multi-column; null/empty/unicode tokens", out)
        tr = Pipeline(stages=[StopWordsRemover(inputCol="tokens", outputCol="sw_tr",
                                               stopWords=["i", "is", "spark"], locale="tr")])
        emit(spark, "text_stopwords_tr", tr.fit(df(spark, rows, fields)), df(spark, rows, fields),
             "StopWordsRemover with the Turkish locale (I -> dotless i)", out)

    @case
    def text_hashing_tf(spark, out, rng):
        """HashingTF: counts and binary, small and prime numFeatures, null/empty/unicode terms."""
        rows = token_rows(rng, 40)
        stages = [
            HashingTF(inputCol="tokens", outputCol="tf"),
            HashingTF(inputCol="tokens", outputCol="tf_17", numFeatures=17),
            HashingTF(inputCol="tokens", outputCol="tf_bin", numFeatures=64, binary=True),
            HashingTF(inputCol="tokens", outputCol="tf_1", numFeatures=1),
        ]
        m = Pipeline(stages=stages).fit(df(spark, rows, TOKEN_FIELDS))
        emit(spark, "text_hashing_tf", m, df(spark, rows, TOKEN_FIELDS),
             "HashingTF with default/17/64(binary)/1 features over null, empty and unicode "
             "terms", out)

    @case
    def text_count_vectorizer(spark, out, rng):
        """CountVectorizerModel: minTF as count and fraction, binary, vocabSize/minDF limits."""
        train = token_rows(rng, 120, with_nulls=False)
        test = token_rows(rng, 40)
        t = df(spark, train, TOKEN_FIELDS)
        a = CountVectorizer(inputCol="tokens", outputCol="cv").fit(t)
        b = CountVectorizer(inputCol="tokens", outputCol="cv_mintf2", minTF=2.0, vocabSize=8).fit(t)
        c = CountVectorizer(inputCol="tokens", outputCol="cv_frac", minTF=0.25, minDF=3.0).fit(t)
        d = CountVectorizer(inputCol="tokens", outputCol="cv_bin", binary=True, minTF=2.0).fit(t)
        m = PipelineModel(stages=[a, b, c, d])
        emit(spark, "text_count_vectorizer", m, df(spark, test, TOKEN_FIELDS),
             "CountVectorizerModel: default, minTF count, minTF fraction, binary; "
             "out-of-vocabulary, null and empty tokens", out)

    @case
    def text_ngram(spark, out, rng):
        """NGram with n = 1, 2, 3, 5 (documents shorter than n, null tokens)."""
        rows = token_rows(rng, 40)
        stages = [NGram(inputCol="tokens", outputCol=f"ng{n}", n=n) for n in (1, 2, 3, 5)]
        m = Pipeline(stages=stages).fit(df(spark, rows, TOKEN_FIELDS))
        emit(spark, "text_ngram", m, df(spark, rows, TOKEN_FIELDS),
             "NGram n=1,2,3,5 on short documents and null tokens", out)

    @case
    def text_pipeline(spark, out, rng):
        """The sff shape: Tokenizer -> StopWordsRemover -> HashingTF(binary) -> NGram/CV."""
        fields = [("id", IntegerType()), ("text", StringType())]
        rows = [(i, s) for i, s in enumerate(SENTENCES)]
        stages = [
            Tokenizer(inputCol="text", outputCol="words"),
            StopWordsRemover(inputCol="words", outputCol="filtered"),
            HashingTF(inputCol="filtered", outputCol="tf", numFeatures=4096, binary=True),
            NGram(inputCol="filtered", outputCol="bigrams"),
            CountVectorizer(inputCol="bigrams", outputCol="bigram_counts"),
        ]
        m = Pipeline(stages=stages).fit(df(spark, rows, fields))
        emit(spark, "text_pipeline", m, df(spark, rows, fields),
             "Tokenizer -> StopWordsRemover -> HashingTF(4096, binary), NGram -> "
             "CountVectorizer", out)

    @case
    def text_word2vec(spark, out, rng):
        """Word2VecModel: average of word vectors; unknown, null and empty documents."""
        train = token_rows(rng, 150, with_nulls=False)
        t = df(spark, train, TOKEN_FIELDS)
        w2v = Word2Vec(inputCol="tokens", outputCol="w2v", vectorSize=5, minCount=2, seed=7,
                       maxIter=2).fit(t)
        test = token_rows(rng, 40) + [(1000, []), (1001, ["never-seen", "unknown"])]
        emit(spark, "text_word2vec", PipelineModel(stages=[w2v]), df(spark, test, TOKEN_FIELDS),
             "Word2VecModel (vectorSize 5): known, unknown, null tokens and empty documents", out)
