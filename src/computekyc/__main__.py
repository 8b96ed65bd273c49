from computekyc.cli import main

main()
