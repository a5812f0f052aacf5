/* hubctl.c - placeholder until the server lands (issue 3, in progress). */
#include <stdio.h>
int main(void)
{
    fputs("hubctl: not built yet\n", stderr);
    return 1;
}
