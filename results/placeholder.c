/* Placeholder so the library exists before the results code lands; removed when it does. */
int burette_results_placeholder;
