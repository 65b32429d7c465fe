from nyquestro.cli.main import main

raise SystemExit(main())
