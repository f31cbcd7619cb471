from netqos.cli.main import main

raise SystemExit(main())
