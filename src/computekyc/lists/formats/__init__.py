"""One module per official list layout; each turns one file into parties plus problems."""
