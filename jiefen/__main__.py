from jiefen.cli import main

raise SystemExit(main())
