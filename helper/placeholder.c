/* Placeholder so the library exists before the helper lands; removed when it does. */
int burette_helper_placeholder;
