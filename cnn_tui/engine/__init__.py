"""The engine's orchestration: `runner.execute` (what every run shares), the kind plug-in protocols
(`plugins`), signals (`stopping`), the data-parallel world, and the engine-side commands' work
(`validate`, `predict`, the picker's `describe_server`). The training loops themselves are in
`cnn_tui.train` (classification) and `cnn_tui.style` (style transfer). Imports torch.
"""
