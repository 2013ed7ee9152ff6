from conclint.cli import main

raise SystemExit(main())
