/* test_ratelimit.c — unit tests of src/ratelimit.c: reservations under concurrency, the pair
** lock, growing delays per email and per address that a known-good pair skips, registration,
** and the table's bound without flushing a locked key. Times are synthetic (ms). */
#include "tinytest.h"
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

#define T0 ((int64_t)1000000000000)   /* any base time */

/* One whole attempt: begin, then end as a failure or success. Returns begin's wait. */
static int attempt(const char *zEmail, const char *zAddr, int64_t now, int bSuccess){
  struct rl_login t;
  int w = ratelimit_login_begin(zEmail, zAddr, now, &t);
  if( !w ) ratelimit_login_end(&t, bSuccess, now);
  return w;
}

static void reservations_count_before_the_verification(void){
  struct rl_login at[40];
  int i, nAllowed = 0;
  ratelimit_reset();
  /* 40 attempts begun before any ends (concurrent verifications): only the budget passes */
  for(i=0; i<40; i++) if( ratelimit_login_begin("v@x.test", "1.1.1.1", T0, &at[i])==0 ) nAllowed++;
  TT_CHECK( nAllowed==RL_PAIR_FREE );
  for(i=0; i<40; i++) ratelimit_login_end(&at[i], 0, T0+50);
  TT_CHECK( attempt("v@x.test", "1.1.1.1", T0+100, 1)>0 );    /* right password: still 429 */
  /* a reservation that ends in success frees its place */
  ratelimit_reset();
  for(i=0; i<RL_PAIR_FREE; i++) TT_CHECK( ratelimit_login_begin("w@x.test", "1.1.1.1", T0, &at[i])==0 );
  TT_CHECK( ratelimit_login_begin("w@x.test", "1.1.1.1", T0, &at[RL_PAIR_FREE])>0 );
  ratelimit_login_end(&at[0], 1, T0+10);
  for(i=1; i<RL_PAIR_FREE; i++) ratelimit_login_cancel(&at[i]);
  TT_CHECK( attempt("w@x.test", "1.1.1.1", T0+20, 0)==0 );
}

static void owner_is_not_locked_out(void){
  char zAddr[32];
  int i, a, w;
  ratelimit_reset();
  TT_CHECK( attempt("own@x.test", "10.0.0.1", T0, 1)==0 );           /* the owner's device */
  /* the attacker's burst from one address locks only its own pair */
  for(i=0; i<40; i++) attempt("own@x.test", "6.6.6.6", T0+i, 0);
  TT_CHECK( attempt("own@x.test", "6.6.6.6", T0+100, 1)>0 );
  TT_CHECK( attempt("own@x.test", "10.0.0.1", T0+100, 1)==0 );
  TT_CHECK( attempt("own@x.test", "10.0.0.2", T0+110, 1)==0 );       /* a new device, too */
  /* distributed: 8 addresses x 10 failures put the email in growing delays */
  for(a=0; a<8; a++){
    snprintf(zAddr, sizeof zAddr, "7.7.7.%d", a);
    for(i=0; i<RL_PAIR_FREE; i++) attempt("own@x.test", zAddr, T0+1000+a*100+i, 0);
  }
  w = attempt("own@x.test", "7.7.8.1", T0+2000, 0);
  TT_CHECK( w>0 && w<=15*60 );                                        /* a new address waits */
  /* ... but the owner's known devices pass, right away, with the right password */
  TT_CHECK( attempt("own@x.test", "10.0.0.1", T0+2000, 1)==0 );
  TT_CHECK( attempt("own@x.test", "10.0.0.2", T0+2001, 1)==0 );
  /* and a device never used before gets in once its delay has passed: delayed, not locked */
  w = attempt("own@x.test", "10.0.0.3", T0+2002, 1);
  TT_CHECK( w>0 );
  TT_CHECK( attempt("own@x.test", "10.0.0.3", T0+2002+(int64_t)w*1000, 1)==0 );
}

static void waiting_out_the_delays_earns_no_new_budget(void){
  char zAddr[32];
  int64_t now = T0;
  int i, w, nAllowed = 0;
  ratelimit_reset();
  for(i=0; i<RL_EMAIL_FREE; i++){
    snprintf(zAddr, sizeof zAddr, "8.8.%d.%d", i/256, i%256);
    TT_CHECK( attempt("slow@x.test", zAddr, now++, 0)==0 );
  }
  /* a patient attacker: a new address each time, each attempt exactly when allowed */
  for(i=0; i<30; i++){
    snprintf(zAddr, sizeof zAddr, "9.9.%d.%d", i/256, i%256);
    w = attempt("slow@x.test", zAddr, now, 0);
    if( w ) now += (int64_t)w*1000;
    else{
      nAllowed++;
      snprintf(zAddr, sizeof zAddr, "9.8.%d.%d", i/256, i%256);
      TT_CHECK( attempt("slow@x.test", zAddr, now+1, 0)>0 );    /* the next must wait */
    }
  }
  /* 30 tries over hours: about half were allowed, and the delay reached its maximum */
  TT_CHECK( nAllowed<=16 );
  w = attempt("slow@x.test", "9.7.0.1", now, 0);
  TT_CHECK( w==0 );
  TT_CHECK( attempt("slow@x.test", "9.7.0.2", now+1, 0)==10*60 );
}

static void address_spray_does_not_lock_out_neighbours(void){
  char zEmail[64];
  int i, w;
  ratelimit_reset();
  TT_CHECK( attempt("neighbour@x.test", "5.5.5.5", T0, 1)==0 );      /* logged in from there before */
  for(i=0; i<RL_ADDR_FREE+50; i++){
    snprintf(zEmail, sizeof zEmail, "random%d@x.test", i);
    attempt(zEmail, "5.5.5.5", T0+10+i, 0);
  }
  /* the sprayer is slowed down ... */
  w = attempt("random-next@x.test", "5.5.5.5", T0+1000, 0);
  TT_CHECK( w>0 && w<=60 );
  /* ... the neighbour who used this address before is not */
  TT_CHECK( attempt("neighbour@x.test", "5.5.5.5", T0+1000, 1)==0 );
  /* a first-time neighbour waits at most the address's delay (60 s), then gets in */
  w = attempt("newcomer@x.test", "5.5.5.5", T0+1001, 1);
  TT_CHECK( w>=0 && w<=60 );
  if( w ) TT_CHECK( attempt("newcomer@x.test", "5.5.5.5", T0+1001+(int64_t)w*1000, 1)==0 );
  /* other addresses are not affected at all */
  TT_CHECK( attempt("other@x.test", "5.5.5.6", T0+1002, 1)==0 );
  /* and the counts are forgotten after a quiet window */
  TT_CHECK( attempt("random-late@x.test", "5.5.5.5", T0+200000+RL_WINDOW_MS, 0)==0 );
}

static void registration_is_throttled(void){
  int i, w;
  ratelimit_reset();
  for(i=0; i<RL_SIGNUP_FREE; i++) TT_CHECK( ratelimit_signup("4.4.4.4", T0+i)==0 );
  w = ratelimit_signup("4.4.4.4", T0+RL_SIGNUP_FREE);
  TT_CHECK( w==0 );                                   /* the first past the budget: delay starts */
  w = ratelimit_signup("4.4.4.4", T0+RL_SIGNUP_FREE+1);
  TT_CHECK( w>=1 && w<=60 );
  TT_CHECK( ratelimit_signup("4.4.4.5", T0+RL_SIGNUP_FREE+1)==0 );   /* another address */
  TT_CHECK( ratelimit_signup("4.4.4.4", T0+RL_SIGNUP_FREE+1+(int64_t)w*1000)==0 );
  TT_CHECK( ratelimit_signup("4.4.4.4", T0+RL_SIGNUP_FREE+2+(int64_t)w*1000)>=2 ); /* doubles */
}

static void table_is_bounded_and_cannot_be_flushed(void){
  char zEmail[64], zAddr[32];
  int i, nUsed, nProt, nSlots, w;
  ratelimit_reset();
  for(i=0; i<RL_PAIR_FREE; i++) attempt("victim@x.test", "3.3.3.3", T0+i, 0);
  TT_CHECK( attempt("victim@x.test", "3.3.3.3", T0+100, 0)>0 );
  /* flood: 200,000 failures on distinct emails from distinct addresses, ~600,000 keys */
  for(i=0; i<200000; i++){
    snprintf(zEmail, sizeof zEmail, "flood%d@x.test", i);
    snprintf(zAddr, sizeof zAddr, "2.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255);
    attempt(zEmail, zAddr, T0+200+i/100, 0);
  }
  ratelimit_stats(T0+3000, &nUsed, &nProt, &nSlots);
  TT_CHECK( nUsed<=nSlots );
  TT_CHECK( nProt>=1 && nProt<100 );
  /* the victim's lock survived the flood */
  w = attempt("victim@x.test", "3.3.3.3", T0+3000, 1);
  TT_CHECK( w>0 );
  printf("  table: %d of %d slots used, %d protected after 600,000 keys\n", nUsed, nSlots, nProt);
}

int main(void){
  TT_RUN(reservations_count_before_the_verification);
  TT_RUN(owner_is_not_locked_out);
  TT_RUN(waiting_out_the_delays_earns_no_new_budget);
  TT_RUN(address_spray_does_not_lock_out_neighbours);
  TT_RUN(registration_is_throttled);
  TT_RUN(table_is_bounded_and_cannot_be_flushed);
  return TT_DONE();
}
