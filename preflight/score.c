#include "score.h"

int sg_webq96(bool must_staple, bool stapled)
{
	if (must_staple)
		return stapled ? 100 : 60;
	return stapled ? 30 : 0;
}
