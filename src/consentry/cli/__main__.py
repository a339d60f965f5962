from consentry.cli.main import main

main()
