"""Knowledge of the Russian language and Russian prison mail, with no Flask in it."""
