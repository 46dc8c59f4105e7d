from bnlint.entry import main

main()
