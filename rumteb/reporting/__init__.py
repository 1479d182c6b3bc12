"""Reading results, the leaderboard table, paired bootstrap comparison, cost columns, plots and submission checks."""
