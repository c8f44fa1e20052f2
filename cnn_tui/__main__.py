import sys

from cnn_tui.cli import main

sys.exit(main())
