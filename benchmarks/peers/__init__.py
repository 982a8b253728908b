"""One adapter module per engine the flag benchmark times; ``contract`` says what they build."""
