from expat.cli import main

raise SystemExit(main())
