"""The CLI's argument parser: global options work before and after the command."""

from cliplens.client.cli import build_parser


def test_json_is_accepted_before_and_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["--json", "toyworld", "eval"]).json is True
    assert parser.parse_args(["toyworld", "eval", "--json"]).json is True
    args = ["lexicon", "subtree", "--dictionary", "physical", "bird.n.01", "--json"]
    assert parser.parse_args(args).json is True
    assert parser.parse_args(["toyworld", "eval"]).json is False
