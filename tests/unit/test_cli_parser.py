"""The CLI's argument parser: global options work before and after the command."""

from cliplens.client.cli import build_parser


def test_json_is_accepted_before_and_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["--json", "toyworld", "eval"]).json is True
    assert parser.parse_args(["toyworld", "eval", "--json"]).json is True
    args = ["lexicon", "subtree", "--dictionary", "physical", "bird.n.01", "--json"]
    assert parser.parse_args(args).json is True
    assert parser.parse_args(["toyworld", "eval"]).json is False


def _choices(parser, argv, dest):
    """The `choices` of option `dest` of the subcommand `argv` names."""
    sub = parser
    for word in argv:
        action = next(a for a in sub._actions if a.dest and a.choices and word in a.choices)
        sub = action.choices[word]
    return next(a for a in sub._actions if a.dest == dest).choices


def test_every_choice_comes_from_the_registry():
    from cliplens.explanation.methods import (
        CONCEPT_METHODS,
        CONVIS_MODES,
        EXPLANATIONS,
        MAP_METHODS,
        MI_ESTIMATORS,
        SURGERY_MODES,
        TEMPLATE_SETS,
    )

    parser = build_parser()
    assert tuple(_choices(parser, ["explain"], "method")) == EXPLANATIONS
    assert set(_choices(parser, ["explain"], "mode")) == set(SURGERY_MODES) | set(CONVIS_MODES)
    assert tuple(_choices(parser, ["explain"], "concepts_method")) == CONCEPT_METHODS.names
    assert tuple(_choices(parser, ["explain"], "template_set")) == TEMPLATE_SETS.names
    assert tuple(_choices(parser, ["report"], "convis_mode")) == CONVIS_MODES.names
    assert tuple(_choices(parser, ["eval", "quality"], "methods")) == tuple(MAP_METHODS)
    assert tuple(_choices(parser, ["eval", "quality"], "estimator")) == MI_ESTIMATORS.names


def test_eval_quality_runs_one_part_with_the_papers_choices():
    args = build_parser().parse_args(
        ["eval", "quality", "--parts", "mutual", "--mutual-images", "20", "--estimator",
         "contingency", "--connectivity", "8", "--relevance-text", "raw", "--token-stage",
         "residual", "--top-descriptors", "100", "--relevance-margin", "0.01"])
    from cliplens.client.cli.evaluate import mutual_options

    options = mutual_options(seed=args.seed, estimator=args.estimator,
                             connectivity=args.connectivity, relevance_text=args.relevance_text,
                             top_descriptors=args.top_descriptors,
                             relevance_margin=args.relevance_margin, features=args.features,
                             token_stage=args.token_stage, key_bias=args.key_bias)
    assert args.parts == ["mutual"] and args.mutual_images == 20
    assert (options.estimator, options.connectivity, options.relevance_text,
            options.token_stage, options.top_descriptors) == (1, 8, 2, 2, 100)
    assert abs(options.relevance_margin - 0.01) < 1e-6 and options.evaluate
