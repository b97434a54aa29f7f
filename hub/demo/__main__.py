import sys

from hub.demo.cli import main

sys.exit(main())
