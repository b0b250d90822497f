"""What the explanation math shares, below every method: array checks, map resampling, prompt
ensembling, connected components and blur. Depends on nothing of the explanation package."""
