"""The ru-en-RoSBERTa recipe: tokenizer extension, contrastive training, SLERP merging, alignment, configs."""
